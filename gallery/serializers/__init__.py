"""Gallery representations and payloads: `images` (GalleryImage, GalleryFlag; G1-G8), `albums` (GalleryAlbum;
G9-G13) and the feed (G14)."""
