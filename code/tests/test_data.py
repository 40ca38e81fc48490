from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from googlenet import data

REAL_DIR = data.SYSTEM_DIR
needs_real_data = pytest.mark.skipif(
    not all((REAL_DIR / f"{stem}.gz").is_file() for stem in data.FILES),
    reason="Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)",
)


def test_parse_idx_roundtrip(write_idx, tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / "x.gz", array)
    parsed = data.parse_idx(gzip.decompress(path.read_bytes()))
    np.testing.assert_array_equal(parsed, array)
    assert parsed.dtype == np.uint8


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"\x01\x00\x08\x01", "magic"),
        (bytes([0, 0, 0x0D, 1]) + (3).to_bytes(4, "big") + b"abc", "unsigned byte"),
        (bytes([0, 0, 0x08, 1]) + (5).to_bytes(4, "big") + b"abc", "header implies"),
    ],
)
def test_parse_idx_rejects_bad_bytes(payload, message):
    with pytest.raises(ValueError, match=message):
        data.parse_idx(payload)


@needs_real_data
def test_real_data_shapes_dtypes_labels():
    ds = data.load_fashion_mnist(REAL_DIR)
    assert ds.x_train.shape == (60000, 28, 28) and ds.x_test.shape == (10000, 28, 28)
    assert ds.y_train.shape == (60000,) and ds.y_test.shape == (10000,)
    for array in (ds.x_train, ds.y_train, ds.x_test, ds.y_test):
        assert array.dtype == np.uint8
    assert set(np.unique(ds.y_train)) == set(range(10)) == set(np.unique(ds.y_test))
    # Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class.
    assert np.all(np.bincount(ds.y_train) == 6000) and np.all(np.bincount(ds.y_test) == 1000)
    assert len(ds.class_names) == 10 and ds.class_names[9] == "Ankle boot"
    assert ds.x_train.max() == 255 and ds.x_train.min() == 0


@needs_real_data
def test_env_var_is_honoured(monkeypatch, tmp_path):
    for stem in data.FILES:
        shutil.copy(REAL_DIR / f"{stem}.gz", tmp_path / f"{stem}.gz")
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    assert data.load_fashion_mnist().source == tmp_path


@needs_real_data
def test_uncompressed_files_are_accepted(tmp_path):
    for stem in data.FILES:
        (tmp_path / stem).write_bytes(gzip.decompress((REAL_DIR / f"{stem}.gz").read_bytes()))
    assert data.load_fashion_mnist(tmp_path).x_test.shape == (10000, 28, 28)


@needs_real_data
@pytest.mark.parametrize("damage", ["truncate", "alter"])
def test_damaged_file_names_file_and_checksum(tmp_path, damage):
    for stem in data.FILES:
        shutil.copy(REAL_DIR / f"{stem}.gz", tmp_path / f"{stem}.gz")
    victim = tmp_path / "t10k-labels-idx1-ubyte.gz"
    payload = bytearray(gzip.decompress(victim.read_bytes()))
    if damage == "truncate":
        payload = payload[:-100]
    else:
        payload[500] ^= 0xFF
    victim.write_bytes(gzip.compress(bytes(payload)))
    with pytest.raises(data.ChecksumError) as info:
        data.load_fashion_mnist(tmp_path)
    message = str(info.value)
    assert str(victim) in message
    assert data.FILES["t10k-labels-idx1-ubyte"][0] in message


def test_corrupt_gzip_is_a_checksum_error(tmp_path, write_idx):
    labels = np.zeros(10000, dtype=np.uint8)
    path = write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels)
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(data.ChecksumError, match="cannot be decompressed"):
        data.read_verified(path, "t10k-labels-idx1-ubyte")


def test_wrong_payload_with_right_shape_fails_checksum(tmp_path, write_idx):
    path = write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(10000, dtype=np.uint8))
    with pytest.raises(data.ChecksumError, match="SHA-256"):
        data.read_verified(path, "t10k-labels-idx1-ubyte")


def test_wrong_directory_names_the_path(tmp_path):
    missing = tmp_path / "no-such-folder"
    with pytest.raises(data.DatasetNotFoundError, match=str(missing)):
        data.load_fashion_mnist(missing)


def test_env_var_wrong_directory_names_the_path(monkeypatch, tmp_path):
    missing = tmp_path / "nowhere"
    monkeypatch.setenv(data.ENV_VAR, str(missing))
    with pytest.raises(data.DatasetNotFoundError, match="FASHION_MNIST_DIR"):
        data.load_fashion_mnist()


def test_directory_missing_files_lists_them(tmp_path, write_idx):
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(3, dtype=np.uint8))
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load_fashion_mnist(tmp_path)
    assert "train-images-idx3-ubyte" in str(info.value)
    assert "t10k-labels-idx1-ubyte[" not in str(info.value)


def test_nothing_anywhere_offline_names_all_three_ways(monkeypatch, tmp_path):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))

    def offline() -> Path:
        raise OSError("network is unreachable")

    monkeypatch.setattr(data, "_download_with_keras", offline)
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load_fashion_mnist(system_dir=tmp_path / "no-debian-package")
    message = str(info.value)
    assert data.ENV_VAR in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "keras.datasets.fashion_mnist" in message
    assert "network is unreachable" in message


def test_download_disabled_still_names_all_three_ways(monkeypatch, tmp_path):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(data.DatasetNotFoundError, match="three ways"):
        data.load_fashion_mnist(system_dir=tmp_path / "none", download=False)


@needs_real_data
def test_keras_cache_is_searched_after_system_dir(monkeypatch, tmp_path):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    cache = data.keras_cache_dir()
    cache.mkdir(parents=True)
    for stem in data.FILES:
        shutil.copy(REAL_DIR / f"{stem}.gz", cache / f"{stem}.gz")
    ds = data.load_fashion_mnist(system_dir=tmp_path / "none", download=False)
    assert ds.source == cache


def test_stratified_subset_is_balanced_and_reproducible():
    labels = np.repeat(np.arange(10), 50)
    a = data.stratified_subset(labels, 7, seed=3)
    b = data.stratified_subset(labels, 7, seed=3)
    np.testing.assert_array_equal(a, b)
    assert np.all(np.bincount(labels[a]) == 7)
    with pytest.raises(ValueError, match="only 50"):
        data.stratified_subset(labels, 51)


def test_validation_split_is_disjoint_stratified_reproducible_and_complete():
    labels = np.repeat(np.arange(10), 30).astype(np.uint8)
    np.random.default_rng(3).shuffle(labels)
    train, held = data.validation_split(labels, per_class=5)
    assert len(held) == 50 and np.bincount(labels[held]).tolist() == [5] * 10
    assert not set(train) & set(held) and len(train) + len(held) == len(labels)
    assert (np.diff(train) > 0).all() and (np.diff(held) > 0).all()
    again_train, again_held = data.validation_split(labels, per_class=5)
    assert (again_held == held).all() and (again_train == train).all()
    assert not (data.validation_split(labels, per_class=5, seed=1)[1] == held).all()
    assert data.VALIDATION_PER_CLASS * data.NUM_CLASSES == 5_000


def test_a_chapter_without_the_data_stops_with_the_message_alone(tmp_path):
    with pytest.raises(SystemExit) as stop:
        data.load_for_chapter(data_dir=tmp_path / "nowhere")
    assert str(stop.value).startswith("This chapter needs Fashion-MNIST.") and "nowhere" in str(stop.value)
    assert stop.value.__cause__ is None and stop.value.__suppress_context__  # no chained traceback


def test_a_chapter_without_the_shipped_runs_stops_with_the_message_alone(monkeypatch, tmp_path):
    from googlenet import paths

    monkeypatch.setenv(paths.RESULTS_ENV, str(tmp_path / "missing"))
    with pytest.raises(SystemExit, match="shipped training runs: the book's results folder"):
        paths.require_results()
    monkeypatch.setenv(paths.RESULTS_ENV, str(tmp_path))
    assert paths.require_results() == tmp_path
