"""Where a result came from: the code's commit, the machine, the library versions; atomic JSON.

Every run's metadata, every history row and every benchmark records these, so a reader can
tell which code on which CPU made a number.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_IMPORTED_AT = time.time()


def process_started_at() -> float:
    """Unix time at which this Python process started: the cold start a wall-clock goal counts from.

    Read from Linux's ``/proc`` (the boot time is whole seconds, so to within about a second);
    elsewhere, the time this module was first imported, which is later by the interpreter's start.
    """
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # field 22 of proc(5), "starttime": clock ticks after boot
        boot = next(
            float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime")
        )
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return _IMPORTED_AT


def write_json_atomic(path: str | os.PathLike, payload: object) -> None:
    """Write JSON so that a reader (or a resumed run) never sees a half-written file.

    Args:
        path: the file to (re)place; its folder must exist.
        payload: anything ``json.dump`` accepts; written with sorted keys and a final newline.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; results are meant to be shared
        with os.fdopen(fd, "w") as handle:
            json.dump(payload, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _cpuinfo() -> str:
    """The text of ``/proc/cpuinfo``; empty where there is none (not Linux)."""
    try:
        return Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return ""


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo``, else what ``platform`` knows."""
    for line in _cpuinfo().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


KERNEL_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_bf16")
"""x86-64 flags that decide which kernels oneDNN and NumPy pick (and TensorFlow's oneDNN default)."""


def cpu_identity(cpuinfo: str) -> dict:
    """What tells two CPUs of one model name apart: family, model number and kernel-deciding flags.

    A virtual machine may report only "AMD EPYC", which covers generations whose kernels and
    speeds differ (AVX-512 or not); the family and model numbers and the flags tell them apart.

    Args:
        cpuinfo: the text of ``/proc/cpuinfo``.

    Returns ``family`` and ``model`` (strings, empty where the text has none) and ``flags``, the
    members of :data:`KERNEL_FLAGS` the first processor lists, in that order.
    """
    from .precision import cpu_flags

    fields = {}
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    flags = cpu_flags(cpuinfo)
    return {
        "family": fields.get("cpu family", ""),
        "model": fields.get("model", ""),
        "flags": [f for f in KERNEL_FLAGS if f in flags],
    }


def machine_description() -> dict:
    """Platform, CPU model (name and :func:`cpu_identity`), core count and any GPUs TensorFlow sees."""
    import tensorflow as tf

    identity = cpu_identity(_cpuinfo())
    gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    return {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_identity": identity,
        "cpu_count": os.cpu_count(),
        "gpus": gpus,
    }


def library_versions() -> dict:
    """Versions of Python and of the libraries that decide a result's numbers."""
    import keras
    import numpy as np
    import tensorflow as tf

    return {
        "python": sys.version.split()[0],
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


def git_commit() -> str | None:
    """HEAD of the repository holding the package, with ``-dirty`` if the package's own files differ.

    Only the package is checked: a run's results files change while it trains, and book edits do
    not change what a run computes. ``None`` outside a git checkout.
    """
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=PACKAGE_DIR
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "."],
            capture_output=True,
            text=True,
            cwd=PACKAGE_DIR,
        ).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def save_model_atomic(model, path: Path) -> None:
    """Save a ``.keras`` file so that a reader never sees half of it (write aside, then rename).

    Args:
        model: the model to save.
        path: the final file (``.keras``); the partial file beside it is removed in any case.
    """
    partial = path.with_name(f".{path.stem}.partial.keras")
    try:
        model.save(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def training_segments(history: list[dict]) -> list[dict]:
    """Consecutive epochs trained by the same commit on the same machine, in order.

    Epochs recorded before history rows carried this information show ``None`` for both.

    Args:
        history: a run's per-epoch rows (with ``git_commit`` and ``machine``).
    """
    segments: list[dict] = []
    for row in history:
        key = (row.get("git_commit"), row.get("machine"))
        if segments and (segments[-1]["git_commit"], segments[-1]["machine"]) == key:
            segments[-1]["last_epoch"] = row["epoch"]
        else:
            segments.append(
                {
                    "first_epoch": row["epoch"],
                    "last_epoch": row["epoch"],
                    "git_commit": key[0],
                    "machine": key[1],
                }
            )
    return segments
