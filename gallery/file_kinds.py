"""The gallery image kind (SPEC §5.1 row "Gallery image", G1 `image`/`file`)."""

from lego_api.core.files import image_kind

GALLERY_IMAGE = image_kind("gallery", "gallery image", 10)
