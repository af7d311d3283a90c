"""Upload validation and normalisation, on real bytes through Pillow's real decoders."""

import io

import artimages
import pytest
from PIL import Image

from artdash.config import ImageLimits
from artdash.errors import ImageRejected
from artdash.media.images import (
    aspect_name,
    clean_file_name,
    hamming,
    perceptual_hash,
    process_image,
    strip_jpeg_metadata,
)


def reopen(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


# Each bad input from the foundation issue: (file name, bytes, words the message must contain).
BAD_INPUTS = [
    ("text file named .jpg", "poster.jpg", b"Dear editor,\nthis is not an image.\n", "text file"),
    ("truncated JPEG", "poster.jpg", artimages.jpeg()[:4000], "truncated"),
    ("PNG declaring 30000x30000", "huge.png", artimages.png_declaring(30000, 30000), "MP limit"),
    ("SVG", "logo.svg", artimages.SVG, "SVG"),
    ("animated GIF", "loop.gif", artimages.animated_gif(), "animated GIF"),
    ("zero-byte file", "empty.jpg", b"", "empty"),
    ("name with ../", "../../etc/passwd.jpg", artimages.jpeg(), "path"),
    ("name with a backslash", "..\\poster.jpg", artimages.jpeg(), "path"),
    ("name with control characters", "post\x1b[31mer.jpg", artimages.jpeg(), "control characters"),
    ("name with a NUL", "poster\x00.jpg", artimages.jpeg(), "control characters"),
]


@pytest.mark.parametrize("case, name, data, words", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_inputs_are_refused_with_a_reason(case, name, data, words):
    with pytest.raises(ImageRejected) as refusal:
        process_image(name, data)
    message = str(refusal.value)
    assert words in message
    assert len(message) > 30  # a sentence that says what to do, not a code


def test_refusal_messages_tell_what_to_do():
    with pytest.raises(ImageRejected, match="Export the frame you want"):
        process_image("loop.gif", artimages.animated_gif())
    with pytest.raises(ImageRejected, match="export it smaller"):
        process_image("huge.png", artimages.png_declaring(9000, 9000))


def test_file_over_the_size_limit_is_refused_before_decoding():
    data = artimages.jpeg((800, 1200))
    with pytest.raises(ImageRejected, match=r"over the 0\.0 MB limit|over the .* limit"):
        process_image("big.jpg", data, ImageLimits(max_bytes=len(data) - 1))


def test_pixel_limit_is_configurable():
    data = artimages.jpeg((600, 900))
    with pytest.raises(ImageRejected, match="600×900"):
        process_image("a.jpg", data, ImageLimits(max_pixels=500_000))
    assert process_image("a.jpg", data, ImageLimits(max_pixels=540_000)).width == 600


def test_animated_webp_is_refused():
    frames = [Image.new("RGB", (120, 180), (40 * i, 0, 0)) for i in range(3)]
    data = artimages.encode(frames[0], "WEBP", save_all=True, append_images=frames[1:])
    with pytest.raises(ImageRejected, match="animated WEBP"):
        process_image("a.webp", data)


def test_still_gif_is_refused_with_conversion_advice():
    with pytest.raises(ImageRejected, match="convert it to PNG"):
        process_image("still.gif", artimages.encode(Image.new("RGB", (60, 90)), "GIF"))


@pytest.mark.parametrize("fmt, ext", [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")])
def test_accepted_formats(fmt, ext):
    data = artimages.encode(artimages.picture(), fmt)
    image = process_image(f"poster.{ext}", data)
    assert (image.format, image.width, image.height, image.ext) == (fmt, 600, 900, ext)
    assert image.warnings == ()
    assert reopen(image.data).size == (600, 900)
    assert len(image.sha256) == 64 and len(image.phash) == 16
    assert reopen(image.thumbnail).size == (320, 480)


def test_format_comes_from_the_bytes_not_the_name():
    image = process_image("actually-a-png.jpg", artimages.png())
    assert image.format == "PNG"
    assert any("ends in .jpg but the file is a PNG" in w for w in image.warnings)


def test_metadata_is_stripped_and_clean_jpeg_data_is_kept_bit_for_bit():
    data = artimages.jpeg_with_camera_metadata()
    image = process_image("shot.jpg", data)
    stored = reopen(image.data)
    assert len(stored.getexif()) == 0
    assert "comment" not in stored.info
    assert b"ACME" not in image.data
    assert "removed camera, GPS and other metadata" in image.notes
    # No re-encoding: the decoded pixels are identical to the upload's.
    assert stored.tobytes() == reopen(data).tobytes()


def test_exif_orientation_is_applied():
    image = process_image("sideways.jpg", artimages.jpeg_with_camera_metadata(size=(900, 600), orientation=6))
    assert (image.width, image.height) == (600, 900)
    assert any("rotated upright" in n for n in image.notes)
    stored = reopen(image.data)
    assert stored.size == (600, 900) and stored.getexif().get(0x0112) is None


def test_cmyk_is_converted_to_rgb():
    data = artimages.encode(artimages.picture(mode="CMYK"), "JPEG", quality=90)
    image = process_image("print.jpg", data)
    assert reopen(image.data).mode == "RGB"
    assert any("CMYK" in n for n in image.notes)


def test_16_bit_grey_and_colour_become_8_bit():
    grey = process_image("deep.png", artimages.png_16bit_grey())
    assert reopen(grey.data).mode == "L"
    assert reopen(grey.data).getextrema()[1] > 200  # scaled, not clipped to black
    colour = process_image("deep-rgb.png", artimages.png_16bit_rgb())
    assert reopen(colour.data).mode == "RGB"
    assert any("16-bit" in n for n in grey.notes + colour.notes)


def test_palette_and_alpha_are_flattened_to_rgb():
    palette = process_image("pal.png", artimages.encode(artimages.picture().convert("P"), "PNG"))
    assert reopen(palette.data).mode == "RGB"
    see_through = artimages.picture().convert("RGBA")
    see_through.putalpha(128)
    alpha = process_image("alpha.png", artimages.encode(see_through, "PNG"))
    assert reopen(alpha.data).mode == "RGB"
    assert any("transparent areas were filled" in w for w in alpha.warnings)
    opaque = process_image("opaque.png", artimages.encode(artimages.picture().convert("RGBA"), "PNG"))
    assert opaque.warnings == ()


def test_low_resolution_and_odd_aspect_warn_but_are_accepted():
    small = process_image("small.jpg", artimages.jpeg((200, 300)))
    assert any("low resolution" in w for w in small.warnings)
    square = process_image("square.jpg", artimages.jpeg((800, 800)))
    assert any("aspect ratio 1.00" in w for w in square.warnings)
    billboard = process_image("wide.jpg", artimages.jpeg((1920, 1080)))
    assert billboard.warnings == ()


def test_aspect_names():
    assert aspect_name(1000, 1500) == "box art (2:3)"
    assert aspect_name(1920, 1080) == "billboard (16:9)"
    assert aspect_name(1000, 1000) is None


def test_visual_features_describe_the_picture():
    dark = process_image("dark.png", artimages.encode(Image.new("RGB", (600, 900), (15, 15, 25)), "PNG"))
    bright = process_image("bright.png", artimages.encode(Image.new("RGB", (600, 900), (250, 240, 120)), "PNG"))
    assert dark.features.brightness < 0.1 < 0.8 < bright.features.brightness
    assert dark.features.colourfulness < bright.features.colourfulness
    assert bright.features.warmth > 0.3
    colour, share = bright.features.dominant_colours[0]
    assert colour == "#faf078" and share == 1.0
    grey = process_image("grey.png", artimages.encode(Image.new("RGB", (600, 900), (128, 128, 128)), "PNG"))
    assert grey.features.colourfulness == 0 and grey.features.contrast == 0


def test_perceptual_hash_sees_reexports_as_near_and_different_pictures_as_far():
    original = artimages.picture(seed=1)
    smaller = original.resize((400, 600))
    other = artimages.picture(seed=2)
    assert hamming(perceptual_hash(original), perceptual_hash(smaller)) <= 4
    assert hamming(perceptual_hash(original), perceptual_hash(other)) > 12


def test_strip_keeps_icc_profile_and_drops_trailing_data():
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = artimages.encode(artimages.picture(), "JPEG", icc_profile=icc) + b"TRAILING-SECOND-IMAGE"
    stripped = strip_jpeg_metadata(data)
    assert stripped.endswith(b"\xff\xd9")
    assert reopen(stripped).info.get("icc_profile") == icc


def test_progressive_jpeg_is_kept_whole():
    data = artimages.encode(artimages.picture(), "JPEG", progressive=True, quality=85)
    image = process_image("prog.jpg", data)
    assert reopen(image.data).tobytes() == reopen(data).tobytes()


@pytest.mark.parametrize("name", ["", "   ", ".", ".."])
def test_file_needs_a_plain_name(name):
    with pytest.raises(ImageRejected):
        clean_file_name(name)


def test_unusual_but_safe_names_are_kept_for_display():
    assert clean_file_name("  Affiche – été 2024 (v2).jpg ") == "Affiche – été 2024 (v2).jpg"


def test_tiles_of_any_shape_line_up_with_transparent_bands():
    """Preview and Catalog rows mixed 3:2 and 1:1 uploads into 2:3 tiles of different heights."""
    import io

    from PIL import Image

    from artdash.media.images.encode import TILE, letterboxed

    for size in ((300, 450), (450, 300), (400, 400), (90, 60)):
        buf = io.BytesIO()
        Image.new("RGB", size, (200, 30, 30)).save(buf, "JPEG")
        with Image.open(io.BytesIO(letterboxed(buf.getvalue()))) as tile:
            assert tile.size == TILE and tile.mode in ("RGB", "RGBA")       # RGB: no band to leave clear
            alpha = tile.getchannel("A") if tile.mode == "RGBA" else Image.new("L", TILE, 255)
            opaque = alpha.point(lambda a: 255 if a > 128 else 0).getbbox()
            w, h = opaque[2] - opaque[0], opaque[3] - opaque[1]
            assert abs(w / h - size[0] / size[1]) < 0.02              # its own shape, not stretched
            assert w == TILE[0] or h == TILE[1]                        # as large as the tile allows
            if size[0] > size[1]:
                assert alpha.getpixel((150, 5)) == 0                   # a band, transparent
