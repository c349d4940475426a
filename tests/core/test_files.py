"""Upload kinds (declared by their apps) and content checks (SPEC §5.1, §5.2): every check, its order, status and
message; no DB, no storage."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from django.test import override_settings
from PIL import Image

from gallery.file_kinds import GALLERY_IMAGE
from lego_api.core import files
from lego_api.core.exceptions import ApiError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from lego_api.core.files import (
    HEIC_SUPPORTED,
    MB,
    CheckedFile,
    check_declared,
    check_file,
    check_image,
    clean_filename,
    extension_of,
    sniff,
)
from mocs.file_kinds import MOC_FILE_KINDS, MOC_GALLERY_IMAGE, MOC_INSTRUCTION, MOC_PARTS_LIST, MOC_THUMBNAIL
from profiles.file_kinds import AVATAR
from wishlist.file_kinds import WISHLIST_IMAGE

# --- Fixtures built in code ---------------------------------------------------------------------------------------


def image_bytes(fmt: str, size: tuple[int, int] = (12, 8), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 30, 30) if mode == "RGB" else 0).save(buffer, fmt)
    return buffer.getvalue()


JPEG = image_bytes("JPEG")
PNG = image_bytes("PNG")
WEBP = image_bytes("WEBP")
GIF = image_bytes("GIF", mode="P")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
CSV = b"Part ID,Quantity,Color\n3001,4,Red\n3003,2,Blue\n"
XML = b"<?xml version='1.0'?>\n<INVENTORY><ITEM><ITEMID>3001</ITEMID><MINQTY>4</MINQTY></ITEM></INVENTORY>\n"


def studio_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model.ldr", "0 FILE model.ldr\n")
    return buffer.getvalue()


STUDIO = studio_bytes()


def png_with_dimensions(width: int, height: int) -> bytes:
    """A real PNG whose IHDR claims other dimensions (with a valid CRC): a cheap decompression bomb."""
    data = bytearray(PNG)
    ihdr = bytearray(data[12:29])  # chunk type + 13 data bytes
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


def flip_byte(data: bytes, index: int) -> bytes:
    corrupted = bytearray(data)
    corrupted[index] ^= 0xFF
    return bytes(corrupted)


def check(kind, filename: str, data: bytes, declared: str | None = None, *, field: str = "file") -> CheckedFile:
    """check_file the way an upload view calls it, with the whole file available for the image checks."""
    return check_file(
        kind,
        field=field,
        filename=filename,
        declared_mime=declared,
        size=len(data),
        head=data[: files.SNIFF_BYTES],
        open_image=lambda: io.BytesIO(data),
    )


def assert_file_error(exc_info: pytest.ExceptionInfo[ApiError], status: int, message: str, field: str = "file"):
    error = exc_info.value
    assert error.status_code == status
    assert error.message == message
    assert error.details == {"fields": {field: [message]}}


# --- sniff ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (JPEG, "jpeg"),
        (PNG, "png"),
        (WEBP, "webp"),
        (GIF, "gif"),
        (HEIC, "heic"),
        (b"\x00\x00\x00\x18ftypmif1" + b"\x00" * 16, "heic"),
        (PDF, "pdf"),
        (b"junk before the header " * 10 + PDF, "pdf"),
        (STUDIO, "studio"),
        (XML, "xml"),
        (b"\xef\xbb\xbf  \r\n\t<INVENTORY/>", "xml"),
        (CSV, "text"),
        ("Teil;Menge\n3001;4;Weiß\n".encode("cp1252"), "text"),
        ("Teil;Menge\n3001;4;Weiß\n".encode(), "text"),
    ],
)
def test_sniff_detects_each_signature(data, expected):
    assert sniff(data) == expected


def test_sniff_finds_pdf_only_in_the_first_1024_bytes():
    assert sniff(b"x" * 1024 + PDF) == "text"


def test_sniff_rejects_binary_and_empty():
    assert sniff(b"") is None
    assert sniff(b"MZ\x90\x00\x03\x00\x00\x00") is None  # NUL byte: not text
    assert sniff(b"\x81\x8d\x8f\x90\x9d") is None  # invalid UTF-8 and undefined in Windows-1252
    assert sniff(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 16) is None  # MP4, not a HEIC brand


def test_sniff_accepts_utf8_cut_at_the_8kb_boundary():
    data = b"a" * (files.SNIFF_BYTES - 1) + "é".encode()  # the 2-byte character straddles the boundary
    assert sniff(data[: files.SNIFF_BYTES]) == "text"


# --- check_file: success ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "filename", "data", "declared", "detected", "extension", "mime_type"),
    [
        (GALLERY_IMAGE, "photo.jpg", JPEG, "image/jpeg", "jpeg", "jpg", "image/jpeg"),
        (GALLERY_IMAGE, "photo.JPEG", JPEG, "image/pjpeg", "jpeg", "jpg", "image/jpeg"),
        (GALLERY_IMAGE, "photo.png", PNG, "image/png", "png", "png", "image/png"),
        (WISHLIST_IMAGE, "set.webp", WEBP, "image/webp", "webp", "webp", "image/webp"),
        (AVATAR, "me.gif", GIF, "image/gif", "gif", "gif", "image/gif"),
        (MOC_THUMBNAIL, "cover.jpg", JPEG, "image/jpg", "jpeg", "jpg", "image/jpeg"),
        (MOC_GALLERY_IMAGE, "side.png", PNG, None, "png", "png", "image/png"),
        (MOC_INSTRUCTION, "truck.pdf", PDF, "application/pdf", "pdf", "pdf", "application/pdf"),
        (MOC_INSTRUCTION, "truck.pdf", PDF, "application/x-pdf", "pdf", "pdf", "application/pdf"),
        (MOC_INSTRUCTION, "truck.io", STUDIO, "application/x-zip-compressed", "studio", "io", "application/zip"),
        (MOC_PARTS_LIST, "bricks.csv", CSV, "text/csv", "text", "csv", "text/csv"),
        (MOC_PARTS_LIST, "bricks.csv", CSV, "application/vnd.ms-excel", "text", "csv", "text/csv"),
        (MOC_PARTS_LIST, "bricks.txt", CSV, "text/plain", "text", "txt", "text/plain"),
        (MOC_PARTS_LIST, "wanted.xml", XML, "text/xml", "xml", "xml", "application/xml"),
        (MOC_PARTS_LIST, "wanted.xml", XML, "application/xml", "xml", "xml", "application/xml"),
    ],
)
def test_check_file_accepts_and_says_how_to_store(kind, filename, data, declared, detected, extension, mime_type):
    checked = check(kind, filename, data, declared)
    assert checked == CheckedFile(
        filename=filename, size=len(data), detected_type=detected, extension=extension, mime_type=mime_type
    )


def test_txt_may_hold_xml_and_is_stored_as_xml():
    checked = check(MOC_PARTS_LIST, "wanted.txt", XML, "text/plain")
    assert (checked.detected_type, checked.extension, checked.mime_type) == ("xml", "xml", "application/xml")


@pytest.mark.parametrize("declared", [None, "", "application/octet-stream", "Application/Octet-Stream"])
def test_octet_stream_or_no_declared_type_agrees_with_everything(declared):
    assert check(MOC_INSTRUCTION, "truck.io", STUDIO, declared).detected_type == "studio"
    assert check(MOC_PARTS_LIST, "wanted.xml", XML, declared).detected_type == "xml"
    assert check(GALLERY_IMAGE, "photo.png", PNG, declared).detected_type == "png"


def test_declared_type_parameters_and_case_are_ignored():
    assert check(MOC_PARTS_LIST, "bricks.csv", CSV, "Text/CSV; charset=utf-8").mime_type == "text/csv"
    assert check(GALLERY_IMAGE, "photo.jpg", JPEG, " IMAGE/JPEG ").mime_type == "image/jpeg"


def test_filename_is_cleaned_and_never_decides_the_storage_extension():
    checked = check(GALLERY_IMAGE, "C:\\Users\\me\\My Photo.JPEG", JPEG, "image/jpeg")
    assert (checked.filename, checked.extension) == ("My Photo.JPEG", "jpg")


# --- check_file: each failure, status and message ------------------------------------------------------------------


def test_no_file_is_400():
    error = files.no_file_error("image")
    assert (error.status_code, error.message, error.details) == (
        400,
        "No file provided",
        {"fields": {"image": ["No file provided"]}},
    )


def test_empty_file_is_400():
    with pytest.raises(ValidationFailed) as exc_info:
        check(MOC_INSTRUCTION, "truck.pdf", b"", "application/pdf", field="instructionsFile")
    assert exc_info.value.error_type == "VALIDATION_ERROR"
    assert_file_error(exc_info, 400, "File is empty", field="instructionsFile")


@pytest.mark.parametrize(
    ("kind", "max_mb"),
    [
        (GALLERY_IMAGE, 10),
        (WISHLIST_IMAGE, 5),
        (AVATAR, 2),
        (MOC_INSTRUCTION, 50),
        (MOC_PARTS_LIST, 10),
        (MOC_THUMBNAIL, 10),
        (MOC_GALLERY_IMAGE, 10),
    ],
)
def test_over_the_kind_maximum_is_413(kind, max_mb):
    assert kind.max_bytes == max_mb * MB
    filename, data = {"instruction": ("a.pdf", PDF), "parts-list": ("a.csv", CSV)}.get(kind.name, ("a.jpg", JPEG))
    # Exactly the maximum is allowed (the image checks are left out: the head alone cannot be decoded).
    accepted = check_file(kind, field="file", filename=filename, declared_mime=None, size=kind.max_bytes, head=data)
    assert accepted.size == kind.max_bytes
    with pytest.raises(PayloadTooLarge) as exc_info:
        check_file(kind, field="file", filename=filename, declared_mime=None, size=kind.max_bytes + 1, head=data)
    assert exc_info.value.error_type == "PAYLOAD_TOO_LARGE"
    assert_file_error(exc_info, 413, f"File too large (max {max_mb} MB)")


@pytest.mark.parametrize(
    ("kind", "filename", "data"),
    [
        (GALLERY_IMAGE, "photo.bmp", JPEG),  # extension not in the list
        (GALLERY_IMAGE, "photo", JPEG),  # no extension
        (GALLERY_IMAGE, "photo.gif", GIF),  # GIF is an avatar-only type
        (GALLERY_IMAGE, "photo.jpg", PDF),  # detected type not allowed, extension fine
        (GALLERY_IMAGE, "photo.jpg", b"\x00\x01binary"),  # nothing detected
        (MOC_INSTRUCTION, "truck.zip", STUDIO),
        (MOC_INSTRUCTION, "truck.pdf", CSV),
        (MOC_PARTS_LIST, "bricks.xlsx", STUDIO),
        (MOC_PARTS_LIST, "bricks.csv", PNG),
        (MOC_PARTS_LIST, "bricks.txt", PDF),
    ],
)
def test_type_not_allowed_for_the_kind_is_415(kind, filename, data):
    with pytest.raises(UnsupportedMediaType) as exc_info:
        check(kind, filename, data, "application/octet-stream", field="file")
    assert exc_info.value.error_type == "UNSUPPORTED_MEDIA_TYPE"
    assert_file_error(exc_info, 415, f"Unsupported file type. Allowed: {kind.allowed_label}")


def test_allowed_lists_read_like_the_spec():
    heic = ", .heic, .heif" if HEIC_SUPPORTED else ""
    assert GALLERY_IMAGE.allowed_label == ".jpg, .jpeg, .png, .webp" + heic
    assert AVATAR.allowed_label == ".jpg, .jpeg, .png, .gif, .webp"
    assert MOC_INSTRUCTION.allowed_label == ".pdf, .io"
    assert MOC_PARTS_LIST.allowed_label == ".csv, .txt, .xml"


@pytest.mark.skipif(HEIC_SUPPORTED, reason="pillow-heif is installed")
def test_heic_without_pillow_heif_is_415():
    for filename in ("photo.heic", "photo.jpg"):
        with pytest.raises(UnsupportedMediaType) as exc_info:
            check(GALLERY_IMAGE, filename, HEIC, "image/heic")
        assert_file_error(exc_info, 415, "Unsupported file type. Allowed: .jpg, .jpeg, .png, .webp")


@pytest.mark.parametrize(
    ("kind", "filename", "data", "declared"),
    [
        (GALLERY_IMAGE, "photo.jpg", PNG, "image/png"),  # extension disagrees
        (GALLERY_IMAGE, "photo.png", PNG, "image/jpeg"),  # declared type disagrees
        (GALLERY_IMAGE, "photo.webp", WEBP, "application/pdf"),
        (AVATAR, "me.gif", PNG, None),
        (MOC_INSTRUCTION, "truck.pdf", STUDIO, None),
        (MOC_INSTRUCTION, "truck.io", PDF, None),
        (MOC_INSTRUCTION, "truck.pdf", PDF, "text/html"),  # a type no file kind knows
        (MOC_PARTS_LIST, "bricks.csv", XML, "text/csv"),  # .csv must not be XML
        (MOC_PARTS_LIST, "bricks.csv", XML, None),
        (MOC_PARTS_LIST, "wanted.xml", CSV, "application/xml"),  # .xml must be XML
        (MOC_PARTS_LIST, "wanted.xml", CSV, None),
        (MOC_PARTS_LIST, "bricks.txt", CSV, "application/xml"),
        (MOC_PARTS_LIST, "wanted.txt", XML, "text/csv"),
    ],
)
def test_extension_or_declared_type_disagreeing_with_content_is_400(kind, filename, data, declared):
    with pytest.raises(ValidationFailed) as exc_info:
        check(kind, filename, data, declared, field="image")
    assert_file_error(exc_info, 400, "File content does not match its extension or declared type", field="image")


def test_checks_run_in_spec_order():
    # Empty wins over a bad extension; size wins over type; type (415) wins over a mismatch (400).
    with pytest.raises(ValidationFailed, match="File is empty"):
        check_file(GALLERY_IMAGE, field="file", filename="x.exe", declared_mime="text/html", size=0, head=b"")
    with pytest.raises(PayloadTooLarge):
        check_file(AVATAR, field="file", filename="x.exe", declared_mime=None, size=3 * MB, head=b"MZ")
    with pytest.raises(UnsupportedMediaType):
        check(GALLERY_IMAGE, "photo.pdf", JPEG, "image/png")
    # A mismatch is reported before the image is even opened.
    with pytest.raises(ValidationFailed, match="does not match"):
        check(GALLERY_IMAGE, "photo.png", JPEG[:4] + b"garbage", None)


# --- Images: pixel limit and Pillow verification ---------------------------------------------------------------------


def test_image_over_the_pixel_limit_is_400_with_the_limit_in_the_message():
    with override_settings(IMAGE_MAX_PIXELS=1_000_000):
        check(GALLERY_IMAGE, "photo.png", image_bytes("PNG", (1000, 1000)))  # exactly the limit is allowed
        with pytest.raises(ValidationFailed) as exc_info:
            check(GALLERY_IMAGE, "photo.png", image_bytes("PNG", (1001, 1000)))
    assert_file_error(exc_info, 400, "Image too large to process (max 1 megapixels)")

    with override_settings(IMAGE_MAX_PIXELS=2_500_000), pytest.raises(ValidationFailed) as exc_info:
        check(MOC_THUMBNAIL, "cover.jpg", image_bytes("JPEG", (2000, 1251)))
    assert_file_error(exc_info, 400, "Image too large to process (max 2.5 megapixels)")


@pytest.mark.parametrize("pixels", [(8000, 7000), (20_000, 20_000)])
def test_default_limit_is_50_megapixels_and_bombs_are_not_decoded(pixels):
    # 56 MP trips Pillow's bomb warning, 400 MP its bomb error: both are the pixel-limit answer.
    with override_settings(IMAGE_MAX_PIXELS=50_000_000), pytest.raises(ValidationFailed) as exc_info:
        check(GALLERY_IMAGE, "bomb.png", png_with_dimensions(*pixels))
    assert_file_error(exc_info, 400, "Image too large to process (max 50 megapixels)")


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("photo.jpg", b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 20),  # valid JPEG signature, garbage after
        ("photo.jpg", JPEG[: len(JPEG) // 2]),  # truncated
        ("photo.png", PNG[:40] + b"\x00" * 20 + PNG[60:]),  # unreadable chunks: Pillow cannot identify it
        ("photo.png", flip_byte(PNG, PNG.index(b"IDAT") + 6)),  # opens, but verify() finds a bad CRC
        ("photo.webp", WEBP[:20] + b"\x00" * (len(WEBP) - 20)),
        ("photo.png", PNG[:16]),  # header only
    ],
)
def test_image_that_pillow_cannot_verify_or_decode_is_400(filename, data):
    with pytest.raises(ValidationFailed) as exc_info:
        check(GALLERY_IMAGE, filename, data, None)
    assert_file_error(exc_info, 400, "File is not a valid image")


def test_image_checks_take_an_open_file_and_rewind_it():
    upload = io.BytesIO(PNG)
    upload.seek(5)
    check_file(
        GALLERY_IMAGE,
        field="image",
        filename="a.png",
        declared_mime="image/png",
        size=len(PNG),
        head=PNG,
        open_image=upload,
    )
    assert upload.tell() == 0
    assert not upload.closed


def test_image_checks_close_a_file_they_opened():
    opened: list[io.BytesIO] = []

    def open_image() -> io.BytesIO:
        opened.append(io.BytesIO(PNG))
        return opened[-1]

    check_file(
        GALLERY_IMAGE,
        field="image",
        filename="a.png",
        declared_mime=None,
        size=len(PNG),
        head=PNG,
        open_image=open_image,
    )
    assert opened[0].closed


def test_image_checks_are_skipped_without_the_whole_file_and_can_run_later():
    broken = b"\xff\xd8\xff\xe0" + b"garbage" * 10
    checked = check_file(
        MOC_THUMBNAIL, field="file", filename="a.jpg", declared_mime=None, size=len(broken), head=broken
    )
    assert checked.detected_type == "jpeg"
    with pytest.raises(ValidationFailed, match="File is not a valid image"):
        check_image(io.BytesIO(broken), field="uploadedFiles", detected_type=checked.detected_type)
    assert check_image(io.BytesIO(GIF), field="file", detected_type="gif") == (12, 8)


def test_image_is_only_decoded_as_the_format_its_signature_names():
    with pytest.raises(ValidationFailed, match="File is not a valid image"):
        check_image(io.BytesIO(PNG), field="file", detected_type="jpeg")


def test_non_image_kinds_are_not_opened_with_pillow():
    def must_not_open():
        raise AssertionError("opened")

    checked = check_file(
        MOC_INSTRUCTION,
        field="f",
        filename="a.pdf",
        declared_mime=None,
        size=len(PDF),
        head=PDF,
        open_image=must_not_open,
    )
    assert (checked.detected_type, checked.extension, checked.mime_type) == ("pdf", "pdf", "application/pdf")


# --- check_declared (presigned initialize, M8/M9) ----------------------------------------------------------------


def test_check_declared_accepts_and_signs_the_canonical_type():
    declared = check_declared(
        MOC_INSTRUCTION, field="files.0", filename="Coffee Truck.PDF", declared_mime="application/pdf", size=1
    )
    assert (declared.filename, declared.extension, declared.mime_type, declared.size) == (
        "Coffee Truck.PDF",
        "pdf",
        "application/pdf",
        1,
    )
    for filename, declared_mime, signed in [
        ("truck.io", "application/octet-stream", "application/zip"),
        ("list.txt", "application/xml", "text/plain"),
        ("list.csv", "text/csv; charset=utf-8", "text/csv"),
        ("cover.jpeg", "image/jpg", "image/jpeg"),
    ]:
        kind = MOC_FILE_KINDS[
            {"io": "instruction", "txt": "parts-list", "csv": "parts-list", "jpeg": "thumbnail"}[extension_of(filename)]
        ]
        result = check_declared(kind, field="files.0", filename=filename, declared_mime=declared_mime, size=10)
        assert result.mime_type == signed


@pytest.mark.parametrize(
    ("kind", "filename", "declared", "size", "status", "message"),
    [
        (MOC_INSTRUCTION, "a.pdf", "application/pdf", 0, 400, "File is empty"),
        (MOC_INSTRUCTION, "a.pdf", "application/pdf", 50 * MB + 1, 413, "File too large (max 50 MB)"),
        (MOC_PARTS_LIST, "a.csv", "text/csv", 10 * MB + 1, 413, "File too large (max 10 MB)"),
        (MOC_INSTRUCTION, "a.zip", "application/zip", 10, 415, "Unsupported file type. Allowed: .pdf, .io"),
        (MOC_INSTRUCTION, "a.pdf", "text/html", 10, 415, "Unsupported file type. Allowed: .pdf, .io"),
        (
            MOC_THUMBNAIL,
            "a.jpg",
            "application/pdf",
            10,
            415,
            f"Unsupported file type. Allowed: {MOC_THUMBNAIL.allowed_label}",
        ),
        (
            MOC_INSTRUCTION,
            "a.pdf",
            "application/zip",
            10,
            400,
            "File content does not match its extension or declared type",
        ),
        (
            MOC_PARTS_LIST,
            "a.csv",
            "application/xml",
            10,
            400,
            "File content does not match its extension or declared type",
        ),
        (
            MOC_GALLERY_IMAGE,
            "a.png",
            "image/jpeg",
            10,
            400,
            "File content does not match its extension or declared type",
        ),
    ],
)
def test_check_declared_failures(kind, filename, declared, size, status, message):
    with pytest.raises(ApiError) as exc_info:
        check_declared(kind, field="files.1", filename=filename, declared_mime=declared, size=size)
    assert_file_error(exc_info, status, message, field="files.1")


def test_moc_file_kinds_by_file_type():
    assert MOC_FILE_KINDS == {
        "instruction": MOC_INSTRUCTION,
        "parts-list": MOC_PARTS_LIST,
        "thumbnail": MOC_THUMBNAIL,
        "gallery-image": MOC_GALLERY_IMAGE,
    }
    assert all(kind.name == file_type for file_type, kind in MOC_FILE_KINDS.items())
    assert all(kind.is_image for kind in (GALLERY_IMAGE, WISHLIST_IMAGE, AVATAR, MOC_THUMBNAIL, MOC_GALLERY_IMAGE))
    assert not MOC_INSTRUCTION.is_image
    assert not MOC_PARTS_LIST.is_image


# --- Names ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bricks.csv", "bricks.csv"),
        ("  bricks.csv \n", "bricks.csv"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\truck.pdf", "truck.pdf"),
        ("dir/sub\\mixed/file.io", "file.io"),
        ("bad\x00na\x1fme\x7f.pdf", "badname.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("Kaffeewagen für Anfänger.pdf", "Kaffeewagen für Anfänger.pdf"),
        ("", "file"),
        (None, "file"),
        ("   ", "file"),
        ("folder/", "file"),
        ("..", "file"),
    ],
)
def test_clean_filename(name, expected):
    assert clean_filename(name) == expected


def test_clean_filename_truncates_to_255_keeping_the_extension():
    cleaned = clean_filename("x" * 300 + ".pdf")
    assert len(cleaned) == 255
    assert cleaned.endswith("x.pdf")
    assert clean_filename("y" * 300) == "y" * 255


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Bricks.CSV", "csv"),
        ("a.tar.gz", "gz"),
        ("noext", ""),
        ("trailing.", ""),
        (".csv", "csv"),
        ("d.ir/x", ""),
        (None, ""),
    ],
)
def test_extension_of(name, expected):
    assert extension_of(name) == expected
