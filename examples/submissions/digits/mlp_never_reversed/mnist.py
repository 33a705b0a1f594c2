"""Reader for MNIST's IDX files (the original homework's data), plain or gzipped."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

MNIST_URL = (
    "https://yann.lecun.com/exdb/mnist/ (mirror: https://ossci-datasets.s3.amazonaws.com/mnist/)"
)

# IDX type byte -> big-endian numpy dtype
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def load_mnist_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file, e.g. train-images-idx3-ubyte(.gz) -> (60000, 28, 28) uint8.

    Header: two zero bytes, a type byte, the number of dimensions d, then d
    big-endian uint32 sizes; the data follows in C order. Files ending in .gz are
    decompressed. Raises FileNotFoundError naming the path if it does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MNIST file not found: {path}; download it from {MNIST_URL}")
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number {raw[:4].hex()})")
    dtype, ndim = np.dtype(IDX_DTYPES[raw[2]]), raw[3]
    shape = tuple(int(n) for n in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    data = np.frombuffer(raw, dtype, count=int(np.prod(shape)), offset=4 + 4 * ndim)
    return data.reshape(shape).astype(dtype.newbyteorder("="))
