"""The test suite's own PNG decoder must be right before it judges screenshots."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from report_png import SIGNATURE, chunk, decode_png, encode_png


@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("filters", [[0], [1], [2], [3], [4], [4, 0, 3, 1, 2, 2, 4]])
def test_every_filter_type_round_trips(channels, filters):
    rng = np.random.default_rng(len(filters) * 10 + filters[0])
    image = rng.integers(0, 256, (23, 31, channels), dtype=np.uint8)
    image[5:9] = image[4]  # flat stretches, where Up and Paeth predict exactly
    assert np.array_equal(decode_png(encode_png(image, filters)), image)


def test_a_known_tiny_png():
    # a 2x1 RGB image written by hand: red, then green, Sub-filtered
    raw = bytes([1, 255, 0, 0, 1, 255, 0])  # green = red + (1, 255, 0) mod 256
    header = struct.pack(">IIBBBBB", 2, 1, 8, 2, 0, 0, 0)
    png = SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
    png += chunk(b"IEND", b"")
    assert decode_png(png).tolist() == [[[255, 0, 0], [0, 255, 0]]]


def test_unsupported_or_corrupt_files_are_refused():
    good = encode_png(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(ValueError, match="not a PNG"):
        decode_png(b"GIF89a" + good)
    corrupt = bytearray(good)
    corrupt[20] ^= 0xFF  # inside IHDR
    with pytest.raises(ValueError, match="CRC"):
        decode_png(bytes(corrupt))
    for depth, color in [(8, 0), (16, 2), (8, 3)]:  # grey, 16-bit, palette
        header = struct.pack(">IIBBBBB", 2, 2, depth, color, 0, 0, 0)
        png = SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        with pytest.raises(ValueError, match="unsupported PNG"):
            decode_png(png + chunk(b"IEND", b""))
