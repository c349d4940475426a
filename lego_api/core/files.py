"""What an upload kind is and the content checks every uploaded file goes through (SPEC §5.1, §5.2); no storage I/O
here. The kinds themselves belong to the apps that take them (`mocs.file_kinds`, `gallery.file_kinds`, ...)."""

from __future__ import annotations

import codecs
import unicodedata
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from django.conf import settings

from lego_api.core.exceptions import PayloadTooLarge, UnsupportedMediaType, ValidationFailed

if TYPE_CHECKING:
    from PIL import Image

try:  # HEIC/HEIF is optional (SPEC §5.1): accepted only when pillow-heif is installed.
    import pillow_heif  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the installed packages
    pillow_heif = None
else:  # pragma: no cover
    pillow_heif.register_heif_opener()

HEIC_SUPPORTED = pillow_heif is not None

MB = 1_048_576
SNIFF_BYTES = 8192
DEFAULT_IMAGE_MAX_PIXELS = 50_000_000
OCTET_STREAM = "application/octet-stream"

# Detected types (SPEC §5.2).
JPEG = "jpeg"
PNG = "png"
WEBP = "webp"
GIF = "gif"
HEIC = "heic"
PDF = "pdf"
STUDIO = "studio"  # Stud.io files are ZIP containers
XML = "xml"
TEXT = "text"
IMAGE_TYPES = frozenset({JPEG, PNG, WEBP, GIF, HEIC})

MSG_NO_FILE = "No file provided"
MSG_EMPTY = "File is empty"
MSG_TOO_LARGE = "File too large (max {mb} MB)"
MSG_UNSUPPORTED = "Unsupported file type. Allowed: {allowed}"
MSG_MISMATCH = "File content does not match its extension or declared type"
MSG_TOO_MANY_PIXELS = "Image too large to process (max {megapixels} megapixels)"
MSG_INVALID_IMAGE = "File is not a valid image"

# Declared MIME type → the detected types it agrees with (SPEC §5.2 table).
# Decision (spec silent): text/plain also agrees with XML, so that a `.txt` BrickLink list sent by a browser
# (which declares text/plain for .txt) is accepted, as "`.txt` may be either" intends.
_MIME_AGREES: dict[str, frozenset[str]] = {
    "image/jpeg": frozenset({JPEG}),
    "image/jpg": frozenset({JPEG}),
    "image/pjpeg": frozenset({JPEG}),
    "image/png": frozenset({PNG}),
    "image/webp": frozenset({WEBP}),
    "image/gif": frozenset({GIF}),
    "image/heic": frozenset({HEIC}),
    "image/heif": frozenset({HEIC}),
    "application/pdf": frozenset({PDF}),
    "application/x-pdf": frozenset({PDF}),
    "application/zip": frozenset({STUDIO}),
    "application/x-zip-compressed": frozenset({STUDIO}),
    "application/xml": frozenset({XML}),
    "text/xml": frozenset({XML}),
    "text/csv": frozenset({TEXT}),
    "application/csv": frozenset({TEXT}),
    "text/x-csv": frozenset({TEXT}),
    "text/plain": frozenset({TEXT, XML}),
    "application/vnd.ms-excel": frozenset({TEXT}),
}

# File extension → the detected types it agrees with (`.csv` must not be XML, `.xml` must be XML, `.txt` either).
_EXTENSION_AGREES: dict[str, frozenset[str]] = {
    "jpg": frozenset({JPEG}),
    "jpeg": frozenset({JPEG}),
    "png": frozenset({PNG}),
    "webp": frozenset({WEBP}),
    "gif": frozenset({GIF}),
    "heic": frozenset({HEIC}),
    "heif": frozenset({HEIC}),
    "pdf": frozenset({PDF}),
    "io": frozenset({STUDIO}),
    "csv": frozenset({TEXT}),
    "txt": frozenset({TEXT, XML}),
    "xml": frozenset({XML}),
}

# Storage extension (SPEC §5.3 `{ext}`) and canonical Content-Type per detected type; text is resolved by extension.
_STORAGE_EXTENSION = {
    JPEG: "jpg",
    PNG: "png",
    WEBP: "webp",
    GIF: "gif",
    HEIC: "heic",
    PDF: "pdf",
    STUDIO: "io",
    XML: "xml",
}
_CANONICAL_MIME = {
    JPEG: "image/jpeg",
    PNG: "image/png",
    WEBP: "image/webp",
    GIF: "image/gif",
    HEIC: "image/heic",
    PDF: "application/pdf",
    STUDIO: "application/zip",
    XML: "application/xml",
}
_TEXT_MIME_BY_EXTENSION = {"csv": "text/csv", "txt": "text/plain"}
# Canonical Content-Type for a declared extension: what a presigned PUT signs (SPEC §5.4).
_MIME_BY_EXTENSION = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "heic": "image/heic",
    "heif": "image/heif",
    "pdf": "application/pdf",
    "io": "application/zip",
    "csv": "text/csv",
    "txt": "text/plain",
    "xml": "application/xml",
}
# Pillow format names per detected type: an image only opens with the decoder its signature named.
_PILLOW_FORMATS = {JPEG: ["JPEG"], PNG: ["PNG"], WEBP: ["WEBP"], GIF: ["GIF"], HEIC: ["HEIF"]}
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})


@dataclass(frozen=True)
class FileKind:
    """One row of SPEC §5.1: what a kind of upload may contain and how big it may be."""

    name: str
    label: str
    types: frozenset[str]
    extensions: tuple[str, ...]  # lower case, without the dot, in display order
    max_bytes: int

    @property
    def is_image(self) -> bool:
        return self.types <= IMAGE_TYPES

    @property
    def allowed_label(self) -> str:
        """The `{list}` of the 415 message, e.g. `.pdf, .io`."""
        return ", ".join(f".{extension}" for extension in self.extensions)

    @property
    def max_mb(self) -> int:
        return self.max_bytes // MB


def image_kind(name: str, label: str, max_mb: int, *, gif: bool = False, heic: bool = HEIC_SUPPORTED) -> FileKind:
    """An image row of SPEC §5.1: JPEG, PNG and WebP, plus GIF when `gif`, plus HEIC/HEIF when pillow-heif is
    installed (unless `heic=False`). Apps declare their kinds with it (e.g. `mocs.file_kinds`)."""
    types = {JPEG, PNG, WEBP} | ({GIF} if gif else set()) | ({HEIC} if heic else set())
    extensions = ["jpg", "jpeg", "png"] + (["gif"] if gif else []) + ["webp"] + (["heic", "heif"] if heic else [])
    return FileKind(name, label, frozenset(types), tuple(extensions), max_mb * MB)


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed the §5.2 checks: what to store it as."""

    filename: str  # the cleaned original name (shown to users, never used in keys)
    size: int
    detected_type: str
    extension: str  # the storage `{ext}` of SPEC §5.3
    mime_type: str  # the canonical Content-Type to store


@dataclass(frozen=True)
class DeclaredFile:
    """A file declared for a presigned upload (M8/M9) that passed `check_declared`."""

    filename: str
    size: int
    extension: str  # the declared extension, lower case
    mime_type: str  # the Content-Type the presigned PUT signs (canonical for the extension)


# --- Names ------------------------------------------------------------------------------------------------------

# Bidirectional overrides can make `evil\u202efdp.exe` display as `evilexe.pdf`; they have no place in a file name.
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
MAX_FILENAME_LENGTH = 255


def clean_filename(name: str | None) -> str:
    """The base name of a client file name, without control characters, trimmed, at most 255 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch) != "Cc" and ch not in _BIDI_CONTROLS).strip()
    if base in ("", ".", ".."):
        return "file"
    if len(base) > MAX_FILENAME_LENGTH:
        extension = extension_of(base)
        # Keep a sensible extension; a "suffix" longer than a few characters is just part of the name.
        suffix = f".{extension}" if extension and len(extension) <= 16 else ""
        base = base[: MAX_FILENAME_LENGTH - len(suffix)].rstrip() + suffix
    return base


def extension_of(name: str | None) -> str:
    """The lower-case extension of a file name without the dot (`Bricks.CSV` → `csv`), or `""`."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    _, dot, extension = base.rpartition(".")
    return extension.lower() if dot and extension else ""


def _media_type(declared_mime: str | None) -> str:
    """`Text/CSV; charset=utf-8` → `text/csv`; `""` for no declared type."""
    return (declared_mime or "").split(";", 1)[0].strip().lower()


def _mime_agrees_with(declared_mime: str | None) -> frozenset[str] | None:
    """Detected types a declared MIME type agrees with; None means "agrees with everything"."""
    media_type = _media_type(declared_mime)
    if media_type in ("", OCTET_STREAM):
        return None
    return _MIME_AGREES.get(media_type, frozenset())


# --- Detection --------------------------------------------------------------------------------------------------


def sniff(head: bytes) -> str | None:
    """The detected type of a file from its first bytes (SPEC §5.2 signatures, checked in table order)."""
    head = head[:SNIFF_BYTES]
    if not head:
        return None
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS:
        return HEIC
    if b"%PDF-" in head[:1024]:
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return STUDIO
    if head.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n").startswith(b"<"):
        return XML
    if b"\x00" not in head and _decodes_as_text(head):
        return TEXT
    return None


def _decodes_as_text(head: bytes) -> bool:
    # The head may end in the middle of a UTF-8 sequence: an incremental decoder allows that, not a broken one.
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return True
    except UnicodeDecodeError:
        pass
    try:
        head.decode("cp1252")
        return True
    except UnicodeDecodeError:
        return False


# --- Checks -----------------------------------------------------------------------------------------------------


def _fields(field: str, message: str) -> dict[str, list[str]]:
    return {field: [message]}


def no_file_error(field: str) -> ValidationFailed:
    """SPEC §5.2 check 1, for the view that finds no file part: 400 `No file provided` on `field`."""
    return ValidationFailed.route_message(MSG_NO_FILE, field)


def _check_size(kind: FileKind, *, field: str, size: int) -> None:
    if size <= 0:
        raise ValidationFailed.route_message(MSG_EMPTY, field)
    if size > kind.max_bytes:
        message = MSG_TOO_LARGE.format(mb=kind.max_mb)
        raise PayloadTooLarge(message, fields=_fields(field, message))


def _unsupported(kind: FileKind, field: str) -> UnsupportedMediaType:
    message = MSG_UNSUPPORTED.format(allowed=kind.allowed_label)
    return UnsupportedMediaType(message, fields=_fields(field, message))


def _mismatch(field: str) -> ValidationFailed:
    return ValidationFailed.route_message(MSG_MISMATCH, field)


def check_file(
    kind: FileKind,
    *,
    field: str,
    filename: str | None,
    declared_mime: str | None,
    size: int,
    head: bytes,
    open_image: Callable[[], IO[bytes]] | IO[bytes] | None = None,
) -> CheckedFile:
    """Run the SPEC §5.2 checks 2 to 7 in order (the first failure raises) and say how to store the file.

    `head` is the file's first 8 KB. For image kinds, `open_image` gives the whole file for the Pillow checks:
    a seekable binary file (left open, rewound) or a callable that opens one (closed afterwards). Without it
    the image checks are skipped, for the caller to run `check_image` later (e.g. on the stored object).
    """
    _check_size(kind, field=field, size=size)

    extension = extension_of(filename)
    detected = sniff(head)
    if extension not in kind.extensions or detected not in kind.types:
        raise _unsupported(kind, field)

    mime_agrees = _mime_agrees_with(declared_mime)
    if detected not in _EXTENSION_AGREES[extension] or (mime_agrees is not None and detected not in mime_agrees):
        raise _mismatch(field)

    if kind.is_image and open_image is not None:
        if callable(open_image):
            with open_image() as file:
                check_image(file, field=field, detected_type=detected)
        else:
            check_image(open_image, field=field, detected_type=detected)

    if detected == TEXT:
        storage_extension, mime_type = extension, _TEXT_MIME_BY_EXTENSION[extension]
    else:
        storage_extension, mime_type = _STORAGE_EXTENSION[detected], _CANONICAL_MIME[detected]
        if detected == HEIC and extension == "heif":
            mime_type = "image/heif"
    return CheckedFile(
        filename=clean_filename(filename),
        size=size,
        detected_type=detected,
        extension=storage_extension,
        mime_type=mime_type,
    )


def check_declared(
    kind: FileKind, *, field: str, filename: str | None, declared_mime: str | None, size: int
) -> DeclaredFile:
    """Check a file declared for a presigned upload (M8/M9) before any byte exists, with the §5.2 messages.

    Size must be 1..max (400 / 413); the extension must be allowed for the kind and the declared MIME type
    allowed for the kind or `application/octet-stream` (415); extension and MIME type must agree (400).
    """
    _check_size(kind, field=field, size=size)

    extension = extension_of(filename)
    mime_agrees = _mime_agrees_with(declared_mime)
    if extension not in kind.extensions or (mime_agrees is not None and not (mime_agrees & kind.types)):
        raise _unsupported(kind, field)
    if mime_agrees is not None and not (mime_agrees & _EXTENSION_AGREES[extension]):
        raise _mismatch(field)

    return DeclaredFile(
        filename=clean_filename(filename),
        size=size,
        extension=extension,
        mime_type=_MIME_BY_EXTENSION[extension],
    )


def image_max_pixels() -> int:
    return int(getattr(settings, "IMAGE_MAX_PIXELS", DEFAULT_IMAGE_MAX_PIXELS))


def _too_many_pixels(field: str, limit: int) -> ValidationFailed:
    return ValidationFailed.route_message(MSG_TOO_MANY_PIXELS.format(megapixels=f"{limit / 1_000_000:g}"), field)


@contextmanager
def image_errors(field: str) -> Iterator[None]:
    """Pillow work on untrusted bytes, answered as SPEC §5.2 says: over `IMAGE_MAX_PIXELS` (Pillow's bomb guard set
    to it, its warning an error: SPEC §5.5 step 1) the pixel-limit 400, for any other failure `File is not a valid
    image`. Shared by these checks and the image pipeline (`lego_api.core.images`)."""
    from PIL import Image  # imported on first use: most requests never open an image (cold start)

    limit = image_max_pixels()
    # Pillow's bomb guard reads this global; the process-wide value is the setting.
    Image.MAX_IMAGE_PIXELS = limit
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(field, limit) from None
    except ValidationFailed:
        raise
    except Exception as exc:
        # Pillow reports corrupt data through many exception types (OSError, SyntaxError, ValueError,
        # struct.error, EOFError, ...) depending on the decoder; on untrusted bytes each means "not an image".
        raise ValidationFailed.route_message(MSG_INVALID_IMAGE, field) from exc


def open_verified_image(file: IO[bytes], *, field: str, formats: list[str] | tuple[str, ...] | None) -> Image.Image:
    """The image in `file` opened (not decoded) once the pixel limit and Pillow's `verify()` passed; run it inside
    `image_errors`. `verify()` leaves an image unusable, so this is a second open from the start of the file."""
    from PIL import Image

    limit = image_max_pixels()
    file.seek(0)
    with Image.open(file, formats=formats) as image:
        width, height = image.size
        if width * height > limit:
            raise _too_many_pixels(field, limit)
        image.verify()
    file.seek(0)
    return Image.open(file, formats=formats)


def check_image(file: IO[bytes], *, field: str, detected_type: str | None = None) -> tuple[int, int]:
    """SPEC §5.2 checks 6 and 7 on a seekable binary file: pixel limit, then Pillow verify and decode.

    Returns (width, height). The file is rewound before and after. `detected_type` restricts Pillow to the
    decoder the signature named, so a file cannot pass as one format and be parsed as another.
    """
    formats = _PILLOW_FORMATS.get(detected_type or "")
    try:
        with image_errors(field), open_verified_image(file, field=field, formats=formats) as image:
            width, height = image.size
            # JPEG decodes at 1/8 scale: the whole entropy stream is still read, with far less memory.
            image.draft(image.mode, (1, 1))
            image.load()
    finally:
        file.seek(0)
    return width, height
