"""Image re-encoding (SPEC §5.5): the one pipeline behind gallery images and thumbnails, wishlist images and avatars.

Every image goes: pixel guard, `verify()`, reopen; first frame; EXIF orientation; embedded ICC profile to sRGB;
RGB, or RGBA when there is alpha; LANCZOS resize that never upscales; WebP quality 80 with no metadata.

The order below does the expensive steps on as few pixels as possible:
- a JPEG decodes at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling, `Image.draft`) when the part of the image that
  is kept is still at least the output size at that scale;
- a large reduction first averages whole pixel blocks (`reduce()`), leaving a factor of at least `REDUCING_GAP`
  to LANCZOS, as libvips (sharp) does;
- the EXIF rotation and the colour conversion run on the resized image, not on the decoded one: a rotation
  commutes with resizing, and a colour transform is per pixel (done after the resize it differs only where the
  resize blends neighbouring colours, by what resizing in one encoding rather than another changes).

Pillow is imported inside the functions: most requests never process an image, and cold start matters.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from lego_api.core.files import HEIC_SUPPORTED, image_errors, open_verified_image

if TYPE_CHECKING:
    from PIL import Image

WEBP_QUALITY = 80
# A reduction by more than this factor first averages pixel blocks, then LANCZOS does the last (at least) 2x.
# Pillow's documented trade-off and libvips' default: visually the same as a plain LANCZOS resize.
REDUCING_GAP = 2.0
# The Pillow decoders a processed image may use: the §5.1 image types (HEIF only when pillow-heif registered it:
# Pillow fails with a KeyError on a format name it does not know).
_DECODERS = ("JPEG", "PNG", "WEBP", "GIF", *(("HEIF",) if HEIC_SUPPORTED else ()))
_EXIF_ORIENTATION = 0x0112
# Orientations 5 to 8 turn the image a quarter: the displayed width is the stored height.
_QUARTER_TURNS = frozenset({5, 6, 7, 8})
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


@dataclass(frozen=True)
class ProcessedImage:
    """An encoded WebP and its pixel size (the stored width and height of SPEC §3)."""

    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class ImageWithThumbnail:
    """A processed image and the thumbnail made from it (gallery images)."""

    image: ProcessedImage
    thumbnail: ProcessedImage


@dataclass(frozen=True)
class RenderedImage:
    """A decoded, oriented, sRGB image at its output size, before encoding.

    `decoded_size` is the size the decoder produced (smaller than the source when a JPEG decoded at a reduced
    scale); it is reported so that tests and the benchmark can see the draft mode at work.
    """

    image: Image.Image
    source_size: tuple[int, int]
    decoded_size: tuple[int, int]


@dataclass(frozen=True)
class _Plan:
    """What to take from the stored (not yet oriented) pixels: the `box` and the size it becomes."""

    size: tuple[int, int]
    box: tuple[float, float, float, float]


def process_image(source: IO[bytes], *, max_width: int, field: str = "file") -> ProcessedImage:
    """The image at most `max_width` pixels wide (height scaled, never upscaled), as WebP (wishlist images)."""
    return encode_webp(render_image(source, max_width=max_width, field=field).image)


def process_image_with_thumbnail(
    source: IO[bytes], *, max_width: int, thumbnail_width: int, field: str = "file"
) -> ImageWithThumbnail:
    """The image at most `max_width` wide and a thumbnail at most `thumbnail_width` wide made from it (gallery).

    One decode: the thumbnail is resized from the processed pixels, not from the source or the encoded WebP.
    """
    image = render_image(source, max_width=max_width, field=field).image
    thumbnail = _resize(image, _fit_width(image.size, thumbnail_width))
    return ImageWithThumbnail(image=encode_webp(image), thumbnail=encode_webp(thumbnail))


def process_square_image(source: IO[bytes], *, size: int, field: str = "file") -> ProcessedImage:
    """The centre square of the image (the shorter side), resized to `size`x`size`, as WebP (avatars).

    Decision: the output is always `size`x`size` as the §5.5 avatar row says, so a smaller image is enlarged.
    """
    return encode_webp(render_image(source, square=size, field=field).image)


def render_image(
    source: IO[bytes], *, max_width: int | None = None, square: int | None = None, field: str = "file"
) -> RenderedImage:
    """Steps 1 to 4 of SPEC §5.5: the decoded image, resized (to `max_width` or to a `square` crop) and ready.

    Raises the §5.2 400s on `field`: `Image too large to process (max N megapixels)` over `IMAGE_MAX_PIXELS`
    (a decompression-bomb warning counts as an error), `File is not a valid image` for anything Pillow cannot
    verify or decode.
    """
    from PIL import Image

    if (max_width is None) == (square is None):
        raise ValueError("give either max_width or square")
    with image_errors(field):
        with open_verified_image(source, field=field, formats=_DECODERS) as opened:
            source_size = opened.size
            orientation = _orientation(opened)
            if square is not None:
                plan = _square_plan(source_size, square)
            else:
                assert max_width is not None
                plan = _width_plan(source_size, max_width, turned=orientation in _QUARTER_TURNS)
            plan = _decode(opened, plan)
            decoded_size = opened.size
            icc_profile = opened.info.get("icc_profile")
            image = _working_mode(opened)
        image = _resize(image, plan.size, plan.box)
        image = _to_srgb(image, icc_profile)
        image = _output_mode(image)
        transpose = _TRANSPOSE_BY_ORIENTATION.get(orientation)
        if transpose is not None:
            image = image.transpose(Image.Transpose[transpose])
    return RenderedImage(image=image, source_size=source_size, decoded_size=decoded_size)


def encode_webp(image: Image.Image) -> ProcessedImage:
    """WebP at quality 80 without metadata: Pillow writes EXIF, XMP or ICC only when asked to, and is not."""
    buffer = io.BytesIO()
    image.info.clear()
    image.save(buffer, "WEBP", quality=WEBP_QUALITY)
    return ProcessedImage(data=buffer.getvalue(), width=image.width, height=image.height)


# --- Orientation ---------------------------------------------------------------------------------------------------


def _orientation(image: Image.Image) -> int:
    orientation = image.getexif().get(_EXIF_ORIENTATION, 1)
    return orientation if isinstance(orientation, int) else 1


# EXIF orientation → the transposition that displays the image upright (as `ImageOps.exif_transpose` does).
_TRANSPOSE_BY_ORIENTATION = {
    2: "FLIP_LEFT_RIGHT",
    3: "ROTATE_180",
    4: "FLIP_TOP_BOTTOM",
    5: "TRANSPOSE",
    6: "ROTATE_270",
    7: "TRANSVERSE",
    8: "ROTATE_90",
}


# --- Planning: what part of the stored pixels becomes which size -------------------------------------------------


def _fit_width(size: tuple[int, int], max_width: int) -> tuple[int, int]:
    """`size` scaled to at most `max_width` wide, never upscaled, the height rounded and at least 1."""
    width, height = size
    if width <= max_width:
        return size
    return max_width, max(1, round(height * max_width / width))


def _width_plan(size: tuple[int, int], max_width: int, *, turned: bool) -> _Plan:
    """The whole image; `max_width` bounds the displayed width, which is the stored height when `turned`."""
    if turned:
        height, width = _fit_width((size[1], size[0]), max_width)
        return _Plan(size=(width, height), box=(0, 0, *size))
    return _Plan(size=_fit_width(size, max_width), box=(0, 0, *size))


def _square_plan(size: tuple[int, int], side: int) -> _Plan:
    """The centre square of the shorter side; it stays centred whatever the orientation, so no turn is needed."""
    width, height = size
    shorter = min(width, height)
    left, top = (width - shorter) / 2, (height - shorter) / 2
    return _Plan(size=(side, side), box=(left, top, left + shorter, top + shorter))


# --- Decoding and resizing (steps 2 to 4) ---------------------------------------------------------------------------


def _decode(image: Image.Image, plan: _Plan) -> _Plan:
    """Decode the first frame; a JPEG at the most reduced DCT scale (1/2, 1/4, 1/8) at which `box` still covers
    the output size.

    Returns the plan in the decoded image's coordinates.
    """
    left, top, right, bottom = plan.box
    width, height = image.size
    # The whole image at the size that makes the box exactly the output size: the draft keeps at least that.
    wanted = (
        max(1, math.ceil(plan.size[0] * width / (right - left))),
        max(1, math.ceil(plan.size[1] * height / (bottom - top))),
    )
    draft = image.draft(image.mode, wanted) if wanted[0] < width and wanted[1] < height else None
    image.load()  # an image opens on its first frame
    if draft is None or image.size == (width, height):
        return plan
    # The draft box is the whole source in decoded pixels (width / scale): source coordinates scale by it.
    scale = draft[1][2] / width
    return _Plan(size=plan.size, box=(left * scale, top * scale, right * scale, bottom * scale))


def _working_mode(image: Image.Image) -> Image.Image:
    """A mode LANCZOS and colour management work in, with as few bands as the image needs.

    L, LA, RGB, RGBA and CMYK stay (a grey or CMYK ICC profile applies to them); a palette becomes RGB or RGBA,
    a 16-bit grey becomes 8-bit by scaling (Pillow's own conversion would clip), and a transparent colour
    (PNG tRNS) becomes an alpha band.
    """
    mode = image.mode
    transparent = "transparency" in image.info
    if mode in ("L", "RGB") and transparent:
        return image.convert("LA" if mode == "L" else "RGBA")
    if mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return image
    if mode.startswith("I"):
        return image.point(lambda value: value / 256, "L")
    if mode == "1":
        return image.convert("L")
    return image.convert("RGBA" if mode in _ALPHA_MODES or transparent else "RGB")


def _resize(
    image: Image.Image, size: tuple[int, int], box: tuple[float, float, float, float] | None = None
) -> Image.Image:
    from PIL import Image

    if size == image.size and box in (None, (0, 0, *image.size)):
        return image  # Pillow would copy
    return image.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=REDUCING_GAP)


# --- Colour (steps 2 and 3) ------------------------------------------------------------------------------------------

# ICC colour space → the image mode its transform reads, and what it writes.
_ICC_MODES = {"RGB ": {"RGB": "RGB", "RGBA": "RGBA"}, "GRAY": {"L": "RGB", "LA": "RGB"}, "CMYK": {"CMYK": "RGB"}}


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Convert pixels described by an embedded ICC profile to sRGB (perceptual intent).

    Decision: a profile LittleCMS cannot use, or one for another colour space (a CMYK profile on an RGB image),
    is ignored and the pixels are taken as sRGB, as browsers do; the image itself is still valid.
    """
    if not icc_profile:
        return image
    from PIL import ImageCms

    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        modes = _ICC_MODES.get(profile.profile.xcolor_space, {})
        if image.mode not in modes:
            return image
        source_mode = "L" if image.mode == "LA" else image.mode
        transform = ImageCms.buildTransform(
            profile, ImageCms.createProfile("sRGB"), source_mode, modes[image.mode], ImageCms.Intent.PERCEPTUAL
        )
    except (OSError, ImageCms.PyCMSError):
        return image
    if image.mode != "LA":
        return ImageCms.applyTransform(image, transform)
    converted = ImageCms.applyTransform(image.getchannel("L"), transform)
    converted.putalpha(image.getchannel("A"))
    return converted


def _output_mode(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when there is an alpha band (SPEC §5.5 step 3)."""
    if image.mode in ("RGB", "RGBA"):
        return image
    return image.convert("RGBA" if image.mode in _ALPHA_MODES else "RGB")
