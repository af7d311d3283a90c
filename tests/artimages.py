"""Real image bytes for tests, made with Pillow (every test gets the real decoder)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def picture(size=(600, 900), seed=0, mode="RGB") -> Image.Image:
    """A picture with structure (gradients and blocks) so hashes and features are meaningful."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    base = rng.uniform(0, 255, 3)
    arr = np.stack([(x / w * 255 + base[0]) % 256, (y / h * 255 + base[1]) % 256,
                    ((x + y) / (w + h) * 255 + base[2]) % 256], -1)
    for _ in range(6):
        x0, y0 = rng.integers(0, w - w // 4), rng.integers(0, h - h // 4)
        arr[y0:y0 + h // 4, x0:x0 + w // 4] = rng.uniform(0, 255, 3)
    im = Image.fromarray(arr.astype(np.uint8), "RGB")
    return im.convert(mode) if mode != "RGB" else im


def encode(im: Image.Image, fmt: str = "JPEG", **kwargs) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


def jpeg(size=(600, 900), seed=0, **kwargs) -> bytes:
    return encode(picture(size, seed), "JPEG", quality=90, **kwargs)


def png(size=(600, 900), seed=0, mode="RGB") -> bytes:
    return encode(picture(size, seed, mode), "PNG")


def jpeg_with_camera_metadata(size=(600, 900), seed=0, orientation=1) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "ACME"          # Make
    exif[0x0110] = "ACME Cam 9"    # Model
    exif[0x0112] = orientation     # Orientation
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 1.5), 3: "E", 4: (4.0, 53.0, 2.0)}  # GPS
    return encode(picture(size, seed), "JPEG", quality=90, exif=exif, comment=b"shot on location")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width``×``height`` (a decompression bomb's calling card)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _png_chunk(b"IEND", b""))


def png_16bit_grey(size=(600, 900)) -> bytes:
    w, h = size
    arr = (np.mgrid[0:h, 0:w][1] / w * 65535).astype(np.uint16)
    return encode(Image.frombytes("I;16", (w, h), arr.astype("<u2").tobytes()), "PNG")


def png_16bit_rgb(size=(600, 900)) -> bytes:
    """A 48-bit RGB PNG written by hand (Pillow reads but cannot write these)."""
    w, h = size
    rows = []
    for yy in range(h):
        line = np.zeros((w, 3), dtype=">u2")
        line[:, 0] = np.linspace(0, 65535, w)
        line[:, 1] = int(yy / h * 65535)
        line[:, 2] = 30000
        rows.append(b"\x00" + line.tobytes())
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + _png_chunk(b"IEND", b""))


def animated_gif(n_frames=3) -> bytes:
    frames = [Image.new("RGB", (120, 180), (60 * i, 20, 200 - 50 * i)) for i in range(n_frames)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="600" height="900"><rect width="600" height="900" fill="red"/></svg>'
