"""Shared fixtures: tiny IDX files written to a temporary folder, never the real data set."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

import googlenet  # noqa: F401 - silences TensorFlow before any test imports it
from googlenet import data


def idx_bytes(array: np.ndarray) -> bytes:
    """Serialise a uint8 array in the IDX format."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def write_idx():
    def _write(path: Path, array: np.ndarray, compress: bool = True) -> Path:
        data = idx_bytes(array)
        path.write_bytes(gzip.compress(data) if compress else data)
        return path

    return _write


@pytest.fixture(scope="module")
def tiny():
    """40 random training images with a learnable square per class, 20 of them reused as a test set."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 4).astype(np.uint8)
    images = rng.integers(0, 256, size=(40, 28, 28), dtype=np.uint8)
    images[:, 10:18, 10:18] = labels[:, None, None] * 25  # a learnable signal per class
    return data.FashionMNIST(images, labels, images[:20], labels[:20], data.CLASS_NAMES, source=None)
