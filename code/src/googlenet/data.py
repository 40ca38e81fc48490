"""Find, verify and parse Fashion-MNIST (Xiao, Rasul & Vollgraf 2017), offline first.

Search order:

1. an explicit ``data_dir`` argument, else the ``FASHION_MNIST_DIR`` environment variable;
2. ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist`` package);
3. Keras's cache (``~/.keras/datasets/fashion-mnist``), downloading into it through
   ``keras.datasets.fashion_mnist`` when the machine is online.

Every file is checked against the SHA-256 of its *decompressed* payload: Debian recompressed
the ``.gz`` files, so their bytes differ from the upstream downloads while the contents do not.
Nothing here ever substitutes fake or partial data: a problem is an exception that says what
is wrong and how to fix it.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checks import positive_int

ENV_VAR = "FASHION_MNIST_DIR"
SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
NUM_CLASSES = len(CLASS_NAMES)
"""Fashion-MNIST's ten classes."""
INPUT_SHAPE: tuple[int, int, int] = (28, 28, 1)
"""One image as the models take it: height, width, channels (raw pixels 0-255)."""
TRAIN_IMAGES = 60_000
"""Images in the training set (6,000 per class)."""
TRAIN_PER_CLASS = TRAIN_IMAGES // NUM_CLASSES
TEST_IMAGES = 10_000
"""Images in the test set (1,000 per class)."""
VALIDATION_PER_CLASS = 500
"""Training images of each class held out for validation (5,000 in all) when a recipe asks for it."""
VALIDATION_SEED = 0
"""Seed of the held-out draw: every run with validation holds out the same 5,000 images."""

# File stem -> (SHA-256 of the decompressed IDX payload, expected array shape).
FILES: dict[str, tuple[str, tuple[int, ...]]] = {
    "train-images-idx3-ubyte": (
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        (60000, 28, 28),
    ),
    "train-labels-idx1-ubyte": (
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        (60000,),
    ),
    "t10k-images-idx3-ubyte": (
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        (10000, 28, 28),
    ),
    "t10k-labels-idx1-ubyte": (
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        (10000,),
    ),
}

_IDX_UBYTE = 0x08


class DatasetNotFoundError(FileNotFoundError):
    """No complete copy of Fashion-MNIST could be found or downloaded."""


class ChecksumError(ValueError):
    """A data file's decompressed payload does not match its recorded SHA-256."""


@dataclass(frozen=True)
class FashionMNIST:
    """The full data set as uint8 arrays, exactly as published."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: Path


def keras_cache_dir() -> Path:
    """Where ``keras.datasets.fashion_mnist`` keeps its downloads."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "fashion-mnist"


def parse_idx(payload: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse an IDX file's bytes (unsigned-byte type only, which Fashion-MNIST uses).

    Args:
        payload: the decompressed file's bytes.
        name: how to name the file in error messages.
    """
    if len(payload) < 4 or payload[0] != 0 or payload[1] != 0:
        raise ValueError(f"{name}: not an IDX file (bad magic number)")
    if payload[2] != _IDX_UBYTE:
        raise ValueError(f"{name}: IDX element type 0x{payload[2]:02x} is not unsigned byte (0x08)")
    ndim = payload[3]
    header = 4 + 4 * ndim
    if len(payload) < header:
        raise ValueError(f"{name}: truncated IDX header")
    shape = tuple(int.from_bytes(payload[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(payload) != expected:
        raise ValueError(f"{name}: IDX payload has {len(payload)} bytes, header implies {expected}")
    return np.frombuffer(payload, dtype=np.uint8, offset=header).reshape(shape).copy()


def _file_in(directory: Path, stem: str) -> Path | None:
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.is_file():
            return candidate
    return None


def read_verified(path: Path, stem: str) -> np.ndarray:
    """Decompress (if ``.gz``), check the payload's SHA-256 and parse one IDX file.

    Args:
        path: the ``.gz`` or plain IDX file.
        stem: which of :data:`FILES` it is (its checksum and shape).
    """
    sha256, shape = FILES[stem]
    raw = path.read_bytes()
    try:
        payload = gzip.decompress(raw) if path.suffix == ".gz" else raw
    except (OSError, EOFError, zlib.error) as exc:
        raise ChecksumError(
            f"{path}: cannot be decompressed ({exc}); the file is truncated or damaged. "
            f"Reinstall it (apt-get install --reinstall dataset-fashion-mnist) or download it again."
        ) from exc
    digest = hashlib.sha256(payload).hexdigest()
    if digest != sha256:
        raise ChecksumError(
            f"{path}: SHA-256 of the decompressed payload is {digest}, expected {sha256}. "
            f"The file is truncated or altered; replace it with the original Fashion-MNIST file."
        )
    array = parse_idx(payload, str(path))
    if array.shape != shape:  # pragma: no cover - impossible once the checksum matched
        raise ChecksumError(f"{path}: shape {array.shape}, expected {shape}")
    return array


def _complete(directory: Path) -> bool:
    return directory.is_dir() and all(_file_in(directory, stem) for stem in FILES)


def _load_from(directory: Path) -> FashionMNIST:
    missing = [stem for stem in FILES if _file_in(directory, stem) is None]
    if missing:
        raise DatasetNotFoundError(
            f"{directory} does not hold the Fashion-MNIST files {', '.join(s + '[.gz]' for s in missing)}. "
            f"Point data_dir / {ENV_VAR} at a folder with all four IDX files."
        )
    arrays = {stem: read_verified(_file_in(directory, stem), stem) for stem in FILES}  # type: ignore[arg-type]
    return FashionMNIST(
        x_train=arrays["train-images-idx3-ubyte"],
        y_train=arrays["train-labels-idx1-ubyte"],
        x_test=arrays["t10k-images-idx3-ubyte"],
        y_test=arrays["t10k-labels-idx1-ubyte"],
        class_names=CLASS_NAMES,
        source=directory,
    )


def _download_with_keras() -> Path:
    import keras

    keras.datasets.fashion_mnist.load_data()
    return keras_cache_dir()


def load_fashion_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    system_dir: str | os.PathLike[str] = SYSTEM_DIR,
    download: bool = True,
) -> FashionMNIST:
    """Load and verify Fashion-MNIST: uint8 images (N, 28, 28), uint8 labels 0..9.

    ``data_dir`` (or ``$FASHION_MNIST_DIR``) must exist and hold the files; otherwise the
    system folder, then Keras's cache, then (if ``download``) a Keras download are tried.

    Args:
        data_dir: a folder holding the four IDX files (``.gz`` or not).
        system_dir: where Debian's package puts them.
        download: allow a Keras download when no copy is found.
    """
    explicit = data_dir if data_dir is not None else os.environ.get(ENV_VAR) or None
    if explicit is not None:
        directory = Path(explicit)
        origin = "data_dir argument" if data_dir is not None else f"${ENV_VAR}"
        if not directory.is_dir():
            raise DatasetNotFoundError(
                f"Fashion-MNIST folder {directory} (from the {origin}) does not exist or is not a "
                f"folder. Give the folder that holds train-images-idx3-ubyte.gz and the other three files."
            )
        return _load_from(directory)

    for directory in (Path(system_dir), keras_cache_dir()):
        if _complete(directory):
            return _load_from(directory)

    download_error: Exception | None = None
    if download:
        try:
            directory = _download_with_keras()
        except Exception as exc:  # noqa: BLE001 - any failure means "not available online"
            download_error = exc
        else:
            return _load_from(directory)

    reason = f" (the download failed: {download_error})" if download_error else ""
    raise DatasetNotFoundError(
        "Fashion-MNIST was not found. Provide it in one of three ways:\n"
        f"  1. pass data_dir=... or set {ENV_VAR} to a folder holding the four IDX files;\n"
        f"  2. install Debian's package: apt-get install dataset-fashion-mnist (-> {system_dir});\n"
        f"  3. go online once so keras.datasets.fashion_mnist can download it into {keras_cache_dir()}"
        f"{reason}."
    )


def load_for_chapter(**options) -> FashionMNIST:
    """:func:`load_fashion_mnist` for a chapter: without the data set, the notebook stops with the
    message alone (a ``SystemExit``, which Jupyter shows without a traceback).

    Args:
        **options: the arguments of :func:`load_fashion_mnist`.
    """
    try:
        return load_fashion_mnist(**options)
    except DatasetNotFoundError as error:
        raise SystemExit(f"This chapter needs Fashion-MNIST. {error}") from None


def stratified_subset(labels: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """Indices of ``per_class`` examples of every class, drawn reproducibly, in sorted order.

    Args:
        labels: class index of every example (N,).
        per_class: how many examples of each class to draw (>= 1).
        seed: seed of the draw; the same seed gives the same indices.

    The indices are sorted by position in the data set, not grouped by class: read the class of
    each from ``labels[indices]``.
    """
    positive_int("per_class", per_class)
    rng = np.random.default_rng(seed)
    picks = []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        if len(members) < per_class:
            raise ValueError(f"class {cls} has only {len(members)} examples, asked for {per_class}")
        picks.append(rng.choice(members, size=per_class, replace=False))
    return np.sort(np.concatenate(picks))


def validation_split(
    labels: np.ndarray, per_class: int = VALIDATION_PER_CLASS, seed: int = VALIDATION_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Split training indices into (train, validation): ``per_class`` images of every class held out.

    The two index arrays are disjoint, sorted, cover every image, and depend only on ``labels``,
    ``per_class`` and ``seed``. Settings are chosen on the validation images; the test set is
    scored once, for the number a chapter reports.

    Args:
        labels: class index of every training image.
        per_class: images of each class to hold out.
        seed: seed of the draw.
    """
    held = stratified_subset(labels, per_class, seed)
    keep = np.ones(len(labels), dtype=bool)
    keep[held] = False
    return np.flatnonzero(keep), held
