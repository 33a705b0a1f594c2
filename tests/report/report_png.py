"""A small PNG codec for the browser tests (no Pillow): 8-bit RGB/RGBA, all five filters."""

from __future__ import annotations

import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG file")
    out, pos = [], len(SIGNATURE)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if (
            zlib.crc32(kind + body)
            != struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0]
        ):
            raise ValueError(f"bad CRC in {kind!r} chunk")
        out.append((kind, body))
        pos += 12 + length
    return out


def decode_png(data: bytes) -> np.ndarray:
    """The image as a (height, width, channels) uint8 array."""
    parts = chunks(data)
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", parts[0][1])
    if depth != 8 or color not in (2, 6) or interlace:
        raise ValueError(
            f"unsupported PNG: depth {depth}, colour type {color}, interlace {interlace}"
        )
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(body for kind, body in parts if kind == b"IDAT"))
    rows = np.frombuffer(raw, np.uint8).reshape(height, 1 + width * bpp)
    filters = rows[:, 0].astype(np.int64)
    if filters.max(initial=0) > 4:
        raise ValueError("unknown PNG filter type")
    return unfilter(filters, rows[:, 1:].reshape(height, width, bpp))


def unfilter(filters: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Undo the per-row filters (None, Sub, Up, Average, Paeth).

    Pixel (r, c) depends on its left, upper and upper-left neighbours, so all
    pixels of one anti-diagonal r + c = k are decoded together: H + W numpy
    steps instead of H * W Python steps.
    """
    height, width, bpp = data.shape
    out = np.zeros((height + 1, width + 1, bpp), np.int64)  # row 0 and column 0 stay zero
    x = data.astype(np.int64)
    for k in range(height + width - 1):
        r = np.arange(max(0, k - width + 1), min(height, k + 1))
        c = k - r
        a, b, cc = out[r + 1, c], out[r, c + 1], out[r, c]  # left, up, up-left
        f = filters[r][:, None]
        p = a + b - cc
        pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - cc)
        paeth = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, cc))
        pred = np.select([f == 1, f == 2, f == 3, f == 4], [a, b, (a + b) // 2, paeth], 0)
        out[r + 1, c + 1] = (x[r, c] + pred) & 0xFF
    return out[1:, 1:].astype(np.uint8)


def chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk with its length and CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def encode_png(image: np.ndarray, filters: list[int] | None = None) -> bytes:
    """Encode an RGB/RGBA uint8 image; ``filters`` chooses each row's filter (default None)."""
    height, width, bpp = image.shape
    img = image.astype(np.int64)
    rows = []
    for r in range(height):
        f = filters[r % len(filters)] if filters else 0
        cur = img[r]
        up = img[r - 1] if r else np.zeros_like(cur)
        left = np.vstack([np.zeros((1, bpp), np.int64), cur[:-1]])
        upleft = np.vstack([np.zeros((1, bpp), np.int64), up[:-1]])
        p = left + up - upleft
        pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - upleft)
        paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, upleft))
        pred = [np.zeros_like(cur), left, up, (left + up) // 2, paeth][f]
        rows.append(bytes([f]) + ((cur - pred) & 0xFF).astype(np.uint8).tobytes())
    color = {3: 2, 4: 6}[bpp]

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    return (
        SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )
