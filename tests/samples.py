"""Sample file contents made by the tests: real images (Pillow), a minimal PDF, a Stud.io (ZIP) file, parts lists in
the SPEC §5.6 formats, and the §5.6 error example with the details it must produce."""

from __future__ import annotations

import io
import zipfile

from PIL import Image


def moc_fields(title: str = "Coffee Truck", **overrides) -> dict:
    """A valid MocWrite body for a MOC (it needs its author, parts count, theme and set number), camelCase keys."""
    return {
        "type": "moc",
        "title": title,
        "author": "Jane Builder",
        "partsCount": 328,
        "theme": "City",
        "setNumber": "MOC-210134",
        **overrides,
    }


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# SPEC §5.6 worked example (d): standard columns, 3 rows, totalPartsCount 7, uniquePartsCount 2.
CSV = b"Part ID,Part Name,Quantity,Color\n3001,Brick 2 x 4,4,Red\n3020,Plate 2 x 4,2,Black\n3001,Brick 2 x 4,1,Red\n"
# SPEC §5.6 worked example (c): BrickLink XML wanted list, 2 rows, totalPartsCount 14.
XML = (
    b"<INVENTORY>\n"
    b"  <ITEM><ITEMTYPE>P</ITEMTYPE><ITEMID>3001</ITEMID><COLOR>5</COLOR><MINQTY>4</MINQTY></ITEM>\n"
    b"  <ITEM><ITEMTYPE>P</ITEMTYPE><ITEMID>3069b</ITEMID><COLOR>11</COLOR><MINQTY>10</MINQTY></ITEM>\n"
    b"</INVENTORY>\n"
)

# SPEC §5.6 "Error format" example: the file, and the details it gives (without `fields`).
SPEC_ERROR_CSV = (
    b"Part ID,Part Name,Quantity,Color\n3001,Brick 2 x 4,4,Red\n,Plate 2 x 4,2,Black\n3020,Plate 2 x 4,two,Black\n"
)
SPEC_ERROR_DETAILS = {
    "errors": [
        {"line": 3, "column": "partId", "code": "MISSING_PART_ID", "message": "part id is required"},
        {
            "line": 4,
            "column": "quantity",
            "code": "INVALID_QUANTITY",
            "message": 'quantity must be a whole number between 1 and 100000 (got "two")',
        },
    ],
    "errorCount": 2,
    "errorsTruncated": False,
    "format": "standard-csv",
}
SPEC_ERROR_FIELD_MESSAGES = [
    "Line 3: part id is required",
    'Line 4: quantity must be a whole number between 1 and 100000 (got "two")',
]


def image_bytes(fmt: str, size: tuple[int, int] = (16, 12)) -> bytes:
    """A real image in Pillow format `fmt` (JPEG, PNG, WEBP, GIF)."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue()


def studio_bytes() -> bytes:
    """A Stud.io file: a ZIP container."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model.ldr", "0 FILE model.ldr\n")
    return buffer.getvalue()


def xml_with_script(beacon_url: str) -> bytes:
    """A valid BrickLink XML parts list (one row) that also holds an XHTML `<script>`: opened as a page, it sets the
    title and makes a synchronous request to `beacon_url` (SPEC §5.3 "Serving user files safely")."""
    script = (
        'document.title = "script ran"; var beacon = new XMLHttpRequest(); '
        f'beacon.open("GET", "{beacon_url}", false); try {{ beacon.send(); }} catch (error) {{}}'
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<INVENTORY>\n'
        "  <ITEM><ITEMTYPE>P</ITEMTYPE><ITEMID>3001</ITEMID><COLOR>5</COLOR><MINQTY>4</MINQTY></ITEM>\n"
        f'  <script xmlns="http://www.w3.org/1999/xhtml">{script}</script>\n</INVENTORY>\n'
    ).encode()


def html_csv_with_script(beacon_url: str) -> bytes:
    """A valid CSV parts list whose part name is an HTML page with a script (an "HTML file named .txt")."""
    page = f"<html><body><script>document.title = 'script ran'; new Image().src = '{beacon_url}'</script></body></html>"
    return f"Part ID,Quantity,Part Name\n3001,1,{page}\n".encode()
