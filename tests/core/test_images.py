"""The SPEC §5.5 image pipeline (lego_api.core.images) on real images generated with Pillow: orientation, colour,
modes, sizes, the avatar crop, metadata, the pixel guard, invalid input, and JPEG draft decoding."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.test import override_settings
from PIL import Image, ImageChops, ImageDraw, ImageOps, ImageStat, UnidentifiedImageError

from lego_api.core import images
from lego_api.core.exceptions import ValidationFailed

RED, GREEN, BLUE, YELLOW = (220, 20, 20), (20, 200, 20), (20, 20, 220), (230, 220, 20)


def encode(image: Image.Image, fmt: str, **params) -> io.BytesIO:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    buffer.seek(0)
    return buffer


def decode(processed: images.ProcessedImage) -> Image.Image:
    image = Image.open(io.BytesIO(processed.data))
    assert image.format == "WEBP"
    assert image.size == (processed.width, processed.height)
    image.load()
    return image


def quadrants(size: tuple[int, int] = (300, 200)) -> Image.Image:
    """Top-left red, top-right green, bottom-left blue, bottom-right yellow: every turn and flip looks different."""
    width, height = size
    image = Image.new("RGB", size, RED)
    draw = ImageDraw.Draw(image)
    draw.rectangle((width // 2, 0, width, height // 2), fill=GREEN)
    draw.rectangle((0, height // 2, width // 2, height), fill=BLUE)
    draw.rectangle((width // 2, height // 2, width, height), fill=YELLOW)
    return image


def photo(size: tuple[int, int]) -> Image.Image:
    """Noise over a gradient: real detail for the encoders and the resampling to work on."""
    gradient = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 48)
    return Image.merge("RGB", (gradient, noise, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))


def with_orientation(image: Image.Image, orientation: int) -> io.BytesIO:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, "JPEG", quality=95, exif=exif)


def colour_at(image: Image.Image, x: float, y: float) -> tuple[int, ...]:
    return image.convert("RGB").getpixel((int(x * (image.width - 1)), int(y * (image.height - 1))))


def assert_close(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 12) -> None:
    assert len(actual) == len(expected)
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True)), (actual, expected)


def rgb_profile(*, gamma: float, colour_space: bytes = b"RGB ") -> bytes:
    """A small ICC v2 display profile: Display P3 primaries (D50) with a pure gamma curve, or a grey one.

    With gamma 1.0 it says the pixel values are linear light, so sRGB must brighten the mid tones (128 → 188).
    """

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)

    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"
    description = b"test profile\0"
    tags = [
        (b"desc", b"desc\0\0\0\0" + struct.pack(">I", len(description)) + description + b"\0" * 78),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
    ]
    if colour_space == b"GRAY":
        tags.append((b"kTRC", curve))
    else:
        tags += [
            (b"rXYZ", xyz(0.5151, 0.2412, -0.0011)),
            (b"gXYZ", xyz(0.2919, 0.6922, 0.0419)),
            (b"bXYZ", xyz(0.1572, 0.0666, 0.7841)),
            (b"rTRC", curve),
            (b"gTRC", curve),
            (b"bTRC", curve),
        ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body + b"\0" * (-len(body) % 4)
    body = struct.pack(">I", len(tags)) + table + data
    header = (
        struct.pack(">I", 128 + len(body))
        + b"\0\0\0\0\x02\x10\0\0mntr"
        + colour_space
        + b"XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 28
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + b"\0" * 48
    )
    return header + body


def riff_chunks(data: bytes) -> dict[bytes, bytes]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    chunks, position = {}, 12
    while position < len(data):
        name, size = data[position : position + 4], struct.unpack("<I", data[position + 4 : position + 8])[0]
        chunks[name] = data[position + 8 : position + 8 + size]
        position += 8 + size + (size & 1)
    return chunks


def png_bomb(width: int, height: int) -> io.BytesIO:
    """A real 1-bit PNG of `width`x`height` black pixels: a few hundred KB that would decode to gigabytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + (width + 7) // 8)  # filter byte + packed bits
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return io.BytesIO(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def assert_refused(source: io.BytesIO, message: str, *, field: str = "file") -> None:
    with pytest.raises(ValidationFailed) as exc_info:
        images.process_image(source, max_width=800, field=field)
    assert exc_info.value.status_code == 400
    assert exc_info.value.message == message
    assert exc_info.value.details == {"fields": {field: [message]}}


# --- Sizes ------------------------------------------------------------------------------------------------------


def test_gallery_image_is_2048_wide_and_its_thumbnail_400_wide():
    result = images.process_image_with_thumbnail(
        encode(photo((3000, 2000)), "JPEG"), max_width=2048, thumbnail_width=400
    )
    assert (result.image.width, result.image.height) == (2048, 1365)
    assert (result.thumbnail.width, result.thumbnail.height) == (400, 267)
    assert decode(result.image).mode == decode(result.thumbnail).mode == "RGB"


def test_thumbnail_is_made_from_the_processed_image():
    # Orientation 6: the thumbnail is as upright as the image, because it is resized from the processed pixels.
    result = images.process_image_with_thumbnail(
        with_orientation(quadrants((3000, 2000)), 6), max_width=2048, thumbnail_width=400
    )
    image, thumbnail = decode(result.image), decode(result.thumbnail)
    assert (image.width, image.height) == (2000, 3000)
    assert (thumbnail.width, thumbnail.height) == (400, 600)
    for x, y in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)]:
        assert_close(colour_at(thumbnail, x, y), colour_at(image, x, y))


def test_wishlist_image_is_800_wide_with_the_height_scaled():
    result = images.process_image(encode(photo((1601, 1200)), "PNG"), max_width=800)
    assert (result.width, result.height) == (800, 600)


@pytest.mark.parametrize("size", [(300, 200), (800, 1200), (1, 1)])
def test_smaller_images_are_never_upscaled(size):
    result = images.process_image_with_thumbnail(encode(photo(size), "PNG"), max_width=800, thumbnail_width=400)
    assert (result.image.width, result.image.height) == size
    assert result.thumbnail.width == min(400, size[0])


# --- Orientation ----------------------------------------------------------------------------------------------


def test_exif_orientation_6_comes_out_turned_clockwise():
    # Stored 300x200 landscape; orientation 6 means "turn 90° clockwise to display": the left half goes on top.
    result = images.process_image(with_orientation(quadrants(), 6), max_width=800)
    image = decode(result)
    assert (image.width, image.height) == (200, 300)
    assert_close(colour_at(image, 0.25, 0.25), BLUE)
    assert_close(colour_at(image, 0.75, 0.25), RED)
    assert_close(colour_at(image, 0.25, 0.75), YELLOW)
    assert_close(colour_at(image, 0.75, 0.75), GREEN)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_matches_exif_transpose(orientation):
    source = with_orientation(quadrants((600, 400)), orientation)
    expected = ImageOps.exif_transpose(Image.open(source))
    result = decode(images.process_image(source, max_width=150))
    assert result.width == 150
    assert result.height == round(expected.height * 150 / expected.width)
    for x, y in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)]:
        assert_close(colour_at(result, x, y), colour_at(expected, x, y))


def test_an_unknown_orientation_leaves_the_image_as_stored():
    output = decode(images.process_image(with_orientation(quadrants(), 9), max_width=800))
    assert (output.width, output.height) == (300, 200)
    assert_close(colour_at(output, 0.25, 0.25), RED)


def test_max_width_bounds_the_displayed_width_of_a_turned_image():
    result = images.process_image(with_orientation(photo((3000, 2000)), 8), max_width=800)
    assert (result.width, result.height) == (800, 1200)


# --- Colour and modes -------------------------------------------------------------------------------------------


def test_icc_profile_is_converted_to_srgb_and_not_kept():
    image = Image.new("RGB", (64, 64), (128, 128, 128))
    ImageDraw.Draw(image).rectangle((32, 0, 64, 64), fill=(200, 60, 40))
    result = images.process_image(encode(image, "PNG", icc_profile=rgb_profile(gamma=1.0)), max_width=800)
    output = decode(result)
    assert "icc_profile" not in output.info
    # Linear-light P3 grey 128 is sRGB 188; the orange moves too (values from LittleCMS, within WebP's loss).
    assert_close(colour_at(output, 0.2, 0.5), (188, 188, 188), tolerance=4)
    assert_close(colour_at(output, 0.8, 0.5), (244, 127, 104), tolerance=6)


def test_icc_profile_on_an_image_with_alpha_keeps_the_alpha():
    image = Image.new("RGBA", (32, 32), (128, 128, 128, 90))
    output = decode(images.process_image(encode(image, "PNG", icc_profile=rgb_profile(gamma=1.0)), max_width=800))
    assert output.mode == "RGBA"
    assert_close(output.getpixel((16, 16)), (188, 188, 188, 90), tolerance=4)


def test_grey_icc_profile_on_grey_with_alpha():
    image = Image.new("LA", (32, 32), (128, 200))
    profile = rgb_profile(gamma=1.0, colour_space=b"GRAY")
    output = decode(images.process_image(encode(image, "PNG", icc_profile=profile), max_width=800))
    assert output.mode == "RGBA"
    assert_close(output.getpixel((16, 16)), (188, 188, 188, 200), tolerance=4)


@pytest.mark.parametrize(
    "profile",
    [rgb_profile(gamma=1.0, colour_space=b"GRAY"), b"not an ICC profile at all" * 10],
    ids=["profile-for-another-colour-space", "unreadable-profile"],
)
def test_a_profile_that_does_not_fit_is_ignored(profile):
    image = Image.new("RGB", (32, 32), (128, 128, 128))
    output = decode(images.process_image(encode(image, "JPEG", quality=95, icc_profile=profile), max_width=800))
    assert_close(output.getpixel((16, 16)), (128, 128, 128), tolerance=4)


def test_alpha_is_kept_as_rgba():
    image = Image.new("RGBA", (100, 50), (*RED, 255))
    ImageDraw.Draw(image).rectangle((50, 0, 100, 50), fill=(0, 0, 0, 0))
    output = decode(images.process_image(encode(image, "PNG"), max_width=800))
    assert output.mode == "RGBA"
    assert_close(output.getpixel((10, 25)), (*RED, 255))
    assert output.getpixel((90, 25))[3] == 0


def transparent_palette() -> io.BytesIO:
    image = Image.new("P", (40, 40), 0)
    image.putpalette([*RED, *GREEN])
    ImageDraw.Draw(image).rectangle((20, 0, 40, 40), fill=1)
    return encode(image, "PNG", transparency=1)


def grey_with_transparent_colour() -> io.BytesIO:
    image = Image.new("L", (40, 40), 100)
    ImageDraw.Draw(image).rectangle((20, 0, 40, 40), fill=7)
    return encode(image, "PNG", transparency=7)


@pytest.mark.parametrize(
    ("source", "mode", "left", "right"),
    [
        (encode(quadrants((40, 40)).convert("P", palette=Image.Palette.ADAPTIVE), "PNG"), "RGB", BLUE, YELLOW),
        (transparent_palette(), "RGBA", (*RED, 255), (0, 0, 0, 0)),
        (grey_with_transparent_colour(), "RGBA", (100, 100, 100, 255), (0, 0, 0, 0)),
        (encode(Image.new("CMYK", (40, 40), (0, 255, 255, 0)), "JPEG", quality=95), "RGB", (255, 0, 0), (255, 0, 0)),
        (encode(Image.new("LA", (40, 40), (90, 128)), "PNG"), "RGBA", (90, 90, 90, 128), (90, 90, 90, 128)),
        (encode(Image.new("I;16", (40, 40), 40_000), "PNG"), "RGB", (156, 156, 156), (156, 156, 156)),
        (encode(Image.new("1", (40, 40), 1), "PNG"), "RGB", (255, 255, 255), (255, 255, 255)),
        (encode(Image.new("L", (40, 40), 77), "JPEG", quality=95), "RGB", (77, 77, 77), (77, 77, 77)),
    ],
    ids=["palette", "palette-transparent", "grey-transparent", "cmyk", "grey-alpha", "16-bit-grey", "1-bit", "grey"],
)
def test_modes_become_rgb_or_rgba(source, mode, left, right):
    output = decode(images.process_image(source, max_width=800))
    assert output.mode == mode
    assert_close(output.getpixel((5, 25)), left)
    if right[-1] == 0 and mode == "RGBA":
        assert output.getpixel((35, 25))[3] == 0
    else:
        assert_close(output.getpixel((35, 25)), right)


def test_animated_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (60, 40), colour) for colour in (RED, BLUE, GREEN)]
    source = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(source).n_frames == 3
    output = decode(images.process_image(source, max_width=800))
    assert (output.width, output.height) == (60, 40)
    assert_close(colour_at(output, 0.5, 0.5), RED)


def test_webp_output_has_no_exif_xmp_or_icc():
    exif = Image.Exif()
    exif[0x0112] = 3
    exif[0x010F] = "Camera maker"
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    source = encode(photo((640, 480)), "JPEG", exif=exif, icc_profile=rgb_profile(gamma=2.2), xmp=xmp)
    assert {"exif", "icc_profile", "xmp"} <= set(Image.open(source).info)
    with_alpha = encode(Image.new("RGBA", (64, 64), (1, 2, 3, 100)), "PNG", icc_profile=rgb_profile(gamma=2.2))

    for processed in (images.process_image(source, max_width=400), images.process_image(with_alpha, max_width=400)):
        chunks = riff_chunks(processed.data)
        assert not {b"EXIF", b"XMP ", b"ICCP"} & set(chunks), set(chunks)
        if b"VP8X" in chunks:  # the extended header's ICC (0x20), EXIF (0x08) and XMP (0x04) flags are off
            assert chunks[b"VP8X"][0] & 0x2C == 0
        assert not {"exif", "icc_profile", "xmp"} & set(decode(processed).info)


def test_webp_quality_is_80():
    image = photo((400, 300))
    expected = io.BytesIO()
    image.save(expected, "WEBP", quality=80)
    assert images.process_image(encode(image, "PNG"), max_width=800).data == expected.getvalue()


# --- Avatar: centre square --------------------------------------------------------------------------------------


def bands(size: tuple[int, int]) -> Image.Image:
    """Red | green | blue along the longer side, the green exactly the centre square, with a yellow dot at the centre."""
    width, height = size
    image = Image.new("RGB", size, GREEN)
    draw = ImageDraw.Draw(image)
    if width > height:
        margin = (width - height) // 2
        draw.rectangle((0, 0, margin - 1, height), fill=RED)
        draw.rectangle((width - margin, 0, width, height), fill=BLUE)
    else:
        margin = (height - width) // 2
        draw.rectangle((0, 0, width, margin - 1), fill=RED)
        draw.rectangle((0, height - margin, width, height), fill=BLUE)
    marker = min(size) // 10
    draw.rectangle((width // 2 - marker, height // 2 - marker, width // 2 + marker, height // 2 + marker), fill=YELLOW)
    return image


@pytest.mark.parametrize(("size", "fmt"), [((600, 300), "PNG"), ((300, 600), "PNG"), ((3000, 1800), "JPEG")])
def test_avatar_is_the_centre_square_at_256(size, fmt):
    output = decode(images.process_square_image(encode(bands(size), fmt, quality=95), size=256))
    assert (output.width, output.height) == (256, 256)
    # Only the green middle is kept (red and blue margins are cropped off) and the yellow centre stays centred.
    for x, y in [(0.02, 0.02), (0.98, 0.02), (0.02, 0.98), (0.98, 0.98), (0.5, 0.02), (0.02, 0.5)]:
        assert_close(colour_at(output, x, y), GREEN, tolerance=16)
    assert_close(colour_at(output, 0.5, 0.5), YELLOW, tolerance=16)


def test_avatar_centre_square_of_a_turned_photo():
    output = decode(images.process_square_image(with_orientation(quadrants((600, 300)), 6), size=256))
    assert (output.width, output.height) == (256, 256)
    # The centre 300x300 holds the inner halves of the quadrants; turned clockwise, blue comes to the top left.
    assert_close(colour_at(output, 0.1, 0.1), BLUE)
    assert_close(colour_at(output, 0.9, 0.1), RED)
    assert_close(colour_at(output, 0.1, 0.9), YELLOW)
    assert_close(colour_at(output, 0.9, 0.9), GREEN)


def test_small_avatar_is_still_256_square():
    output = images.process_square_image(encode(bands((120, 80)), "PNG"), size=256)
    assert (output.width, output.height) == (256, 256)


# --- Pixel guard and invalid input ------------------------------------------------------------------------------


def test_over_the_pixel_limit_is_refused_and_exactly_the_limit_is_not():
    with override_settings(IMAGE_MAX_PIXELS=10_000):
        assert images.process_image(encode(photo((100, 100)), "PNG"), max_width=50).width == 50
        assert_refused(encode(photo((101, 100)), "PNG"), "Image too large to process (max 0.01 megapixels)")


@pytest.mark.parametrize("size", [(10_000, 6_000), (20_000, 12_000)], ids=["bomb-warning", "bomb-error"])
def test_decompression_bomb_is_refused_with_the_spec_message(size):
    # 60 MP trips Pillow's bomb warning (over the limit), 240 MP its bomb error (over twice the limit).
    assert_refused(png_bomb(*size), "Image too large to process (max 50 megapixels)", field="image")


def test_image_at_the_cap_is_processed():
    with override_settings(IMAGE_MAX_PIXELS=12_000_000):
        result = images.process_image(png_bomb(4_000, 3_000), max_width=400)
    assert (result.width, result.height) == (400, 300)


JPEG = encode(photo((320, 240)), "JPEG").getvalue()
PNG = encode(photo((320, 240)), "PNG").getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"definitely not an image" * 40,
        JPEG[: len(JPEG) // 2],
        PNG[: len(PNG) // 2],
        PNG[:100] + bytes([PNG[100] ^ 0xFF]) + PNG[101:],  # opens, but verify() finds a bad CRC
        b"\xff\xd8\xff\xe0" + b"\x00" * 200,
        encode(photo((32, 32)), "BMP").getvalue(),  # a real image, but not a type SPEC §5.1 accepts
    ],
    ids=["garbage", "truncated-jpeg", "truncated-png", "bad-crc", "jpeg-signature-only", "bmp"],
)
def test_invalid_input_is_not_a_valid_image(data):
    assert_refused(io.BytesIO(data), "File is not a valid image", field="image")


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "PDF"])
def test_other_formats_are_not_even_identified(fmt):
    # Only the decoders of the §5.1 image types are tried: Pillow does not recognise the file at all.
    with pytest.raises(ValidationFailed) as exc_info:
        images.process_image(encode(photo((32, 32)), fmt), max_width=800)
    assert isinstance(exc_info.value.__cause__, UnidentifiedImageError)


def test_source_is_read_from_its_start():
    source = encode(photo((64, 48)), "PNG")
    source.seek(0, io.SEEK_END)
    assert images.process_image(source, max_width=800).width == 64


# --- JPEG draft decoding ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def large_jpeg() -> bytes:
    return encode(photo((6000, 4000)), "JPEG", quality=90).getvalue()


@pytest.mark.parametrize(
    ("max_width", "decoded", "output"),
    [(400, (750, 500), (400, 267)), (800, (1500, 1000), (800, 533)), (2048, (3000, 2000), (2048, 1365))],
)
def test_large_jpeg_decodes_at_a_reduced_scale_that_still_covers_the_output(large_jpeg, max_width, decoded, output):
    rendered = images.render_image(io.BytesIO(large_jpeg), max_width=max_width)
    assert rendered.source_size == (6000, 4000)
    assert rendered.decoded_size == decoded
    assert rendered.image.size == output


def test_avatar_from_a_large_jpeg_decodes_at_an_eighth(large_jpeg):
    rendered = images.render_image(io.BytesIO(large_jpeg), square=256)
    assert rendered.decoded_size == (750, 500)  # the centre 500x500 still covers 256x256
    assert rendered.image.size == (256, 256)


def test_draft_decoding_looks_like_a_full_decode(large_jpeg):
    rendered = images.render_image(io.BytesIO(large_jpeg), max_width=400).image
    full = Image.open(io.BytesIO(large_jpeg)).resize(rendered.size, Image.Resampling.LANCZOS)
    difference = ImageStat.Stat(ImageChops.difference(rendered, full))
    assert max(difference.mean) < 3  # mean absolute difference per channel, out of 255


def test_png_and_a_jpeg_near_the_output_size_decode_at_full_scale():
    assert images.render_image(encode(photo((3000, 2000)), "PNG"), max_width=400).decoded_size == (3000, 2000)
    # 1.5x the output: half scale (750 wide) would be smaller than 800, so the JPEG decodes whole.
    assert images.render_image(encode(photo((1200, 800)), "JPEG"), max_width=800).decoded_size == (1200, 800)
