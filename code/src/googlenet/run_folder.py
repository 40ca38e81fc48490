"""A training run's folder: its files, its lock, and the rules for reusing it.

A run lives in one folder::

    state.json      completed epochs and the run's recipe (written last, atomically)
    history.json    one row per completed epoch (atomic)
    checkpoints/    model + optimizer state after each epoch (the last two are kept)
    model.keras     the final self-contained model (raw pixels in, logits out; atomic)
    metadata.json   how the run was made and what it scored
    validation_indices.json   runs with validation: the held-out training images' positions
    predictions.npz the saved model's classes for the test (and validation) images
    .lock           held (flock) by the process training into the folder

The rules, checked before anything is written: an empty or new folder starts a run; a folder
with a ``state.json`` resumes it with the same recipe; a folder left by a run killed before its
first epoch ended starts again; a finished run is read-only unless asked to extend it (a
constant learning rate only); anything else is refused with a message that says why.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from .recipes import Recipe

STATE = "state.json"
HISTORY = "history.json"
GRADIENTS = "gradient_norms.json"  # recipes with a gradient probe: stage norms at init and every epoch
METADATA = "metadata.json"
MODEL = "model.keras"
CHECKPOINTS = "checkpoints"
VALIDATION_INDICES = "validation_indices.json"  # runs with validation: the held-out images' positions
LOCK = ".lock"
# What a run leaves before its first epoch is recorded: safe to clear and start again.
EARLY_LEFTOVERS = {CHECKPOINTS, HISTORY, GRADIENTS, LOCK}
# Settings that change what a run computes: a resumed run must have the same. Runs recorded
# before a setting was part of the record had the value given here (it was fixed in the code).
RESULT_KEYS: dict[str, object] = {
    "model_args": {},
    "batch_size": None,
    "seed": None,
    "optimizer": "adam",
    "learning_rate": None,
    "schedule": None,
    "augment": None,
    "shift_pixels": 2,
    "flip": True,
    "aux_weight": 0.3,
    "train_per_class": None,
    "validation_per_class": None,
    "gradient_probe": 0,
    "label_smoothing": 0.0,
    "ema_decay": 0.0,
    "precision": "float32",
    "erasing": 0.0,
    "warmup_epochs": 0,
}


class RunFolderError(ValueError):
    """A run folder cannot be used as asked; the message says why and what to do."""


class RunFinished(RunFolderError):
    """The folder holds a finished run, which is read-only unless it is extended explicitly."""


def _is_temporary(path: Path) -> bool:
    return path.name.startswith(".") and (path.name.endswith(".tmp") or path.name.endswith(".partial.keras"))


def remove_temporaries(out: Path) -> list[str]:
    """Delete half-written files a killed process left (``.*.tmp``, ``.*.partial.keras``); return their names.

    Args:
        out: the run folder.
    """
    removed = []
    for path in Path(out).iterdir():
        if _is_temporary(path) and path.is_file():
            path.unlink()
            removed.append(path.name)
    return removed


def read_state(out: Path) -> dict:
    """The run's ``state.json``; a damaged one is an error naming the file and the way out.

    Args:
        out: the run folder.
    """
    path = Path(out) / STATE
    try:
        state = json.loads(path.read_text())
        checks = (
            isinstance(state["completed_epochs"], int),
            isinstance(state["checkpoint"], str),
            isinstance(state["run_started"], int | float),
            isinstance(state["config"]["config"], str),
            isinstance(state["config"]["epochs"], int),
        )
        if not all(checks):
            raise TypeError("a field has the wrong type")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise RunFolderError(
            f"{path} is damaged or not a run's state ({type(error).__name__}: {error}). Nothing was changed; "
            f"move or delete the folder {path.parent} to start the run over."
        ) from error
    return state


def read_history(out: Path, completed: int, name: str = HISTORY) -> list[dict]:
    """The first ``completed`` rows of the run's ``history.json``; a damaged or short one is an error.

    Args:
        out: the run folder.
        completed: the rows to read (the epochs its state says were completed).
        name: the file (``history.json``, or the gradient log).
    """
    path = Path(out) / name
    try:
        history = json.loads(path.read_text())
        if not isinstance(history, list) or len(history) < completed:
            raise ValueError(f"it holds {len(history) if isinstance(history, list) else 'no'} epochs of {completed}")
    except (OSError, ValueError) as error:
        raise RunFolderError(
            f"{path} is damaged ({type(error).__name__}: {error}). Nothing was changed; move or delete the "
            f"folder {path.parent} to start the run over."
        ) from error
    return history[:completed]


def _probe_writable(out: Path) -> None:
    probe_dir = out if out.exists() else next((p for p in out.parents if p.exists()), Path("/"))
    try:  # os.access says yes to root even on read-only file systems: really try
        fd, probe = tempfile.mkstemp(dir=probe_dir, prefix=".write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise RunFolderError(
            f"output folder {out} is not writable ({probe_dir}: {error.strerror}); choose another --out"
        ) from error


def _as_json(value: object) -> object:
    return json.loads(json.dumps(value))


def _mismatches(previous: dict, recipe: Recipe) -> list[str]:
    current = recipe.record()
    defaults = replace(recipe, model_args={}).full_model_args()  # what a run recorded without them got
    found = []
    for key, legacy in RESULT_KEYS.items():
        stored = previous.get(key, legacy)
        old, new = stored, current.get(key, legacy)  # a recipe records gradient_probe only when set
        if key == "model_args":  # compare what the builder really got, defaults included
            old, new = defaults | dict(stored), recipe.full_model_args()
        if _as_json(old) != _as_json(new):  # a stored tuple reads back as a list
            found.append(f"{key}: the folder has {stored!r}, the command gives {current.get(key, legacy)!r}")
    return found


def check_output_dir(out: str | os.PathLike, recipe: Recipe, *, extend: bool = False) -> dict | None:
    """Refuse an unusable folder before anything is written; return the state to resume, if any.

    Args:
        out: the run folder (need not exist).
        recipe: the recipe the command asks for, with its epochs, batch size and seed.
        extend: allow raising the epochs of a finished constant-rate run.

    Returns ``None`` for a new run (including a folder left by a run killed during its first
    epoch), else the state to resume from. Raises :class:`RunFolderError` (or
    :class:`RunFinished`) with a message that names the folder and the way out.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"output folder {out} exists and is not a folder; choose another --out")
    _probe_writable(out)
    if not (out / STATE).exists():
        if out.exists():
            others = sorted(p.name for p in out.iterdir() if p.name not in EARLY_LEFTOVERS and not _is_temporary(p))
            if others:
                raise RunFolderError(
                    f"{out} is not empty ({', '.join(others[:5])}) and holds no {STATE}: refusing to mix a new "
                    f"run into it; choose another --out"
                )
        return None
    state = read_state(out)
    previous = state["config"]
    if previous["config"] != recipe.name:
        raise RunFolderError(
            f"{out} holds a run of recipe {previous['config']!r}; it cannot resume as {recipe.name!r}. "
            f"Use another --out or --config {previous['config']}."
        )
    mismatched = _mismatches(previous, recipe)
    if mismatched:
        raise RunFolderError(f"{out} holds a run with other settings ({'; '.join(mismatched)}); nothing was changed")
    completed, planned = state["completed_epochs"], previous["epochs"]
    finished = completed >= planned and (out / METADATA).exists()
    if finished and not (extend and recipe.epochs > completed):
        how = (
            f"to train it further, pass --extend with --epochs above {completed}"
            if recipe.schedule == "constant"
            else f"its {recipe.schedule} schedule was fixed by its {planned} epochs, so it cannot be extended"
        )
        raise RunFinished(f"{out} holds a finished run ({completed} epochs): nothing was changed; {how}.")
    if recipe.epochs != planned:
        if recipe.schedule != "constant":
            what = "finish it with" if completed < planned else "it is finished; its result is that of"
            raise RunFolderError(
                f"{out} was started for {planned} epochs with a {recipe.schedule} schedule; changing --epochs "
                f"would change the schedule ({what} --epochs {planned})."
            )
        if recipe.epochs <= completed:
            raise RunFolderError(
                f"{out} has already trained {completed} epochs; --epochs {recipe.epochs} would end before that. "
                f"Give --epochs above {completed}, or {planned} to finish as planned."
            )
        if not extend:
            raise RunFolderError(
                f"{out} was started for {planned} epochs; to change that to {recipe.epochs}, pass --extend."
            )
    if not checkpoint_prefix(out, state).with_suffix(".index").exists():
        raise RunFolderError(
            f"{out} records epoch {completed} but its checkpoint {checkpoint_prefix(out, state)}.index is missing "
            f"(shipped runs keep only their final model): it cannot be resumed; start a new run in another --out"
        )
    return state


def checkpoint_prefix(out: Path, state: dict) -> Path:
    """The checkpoint a state file points to, found inside ``out`` wherever the run is resumed from.

    States record ``checkpoints/epoch-NNNN`` relative to the run folder; older ones recorded the
    path as given on the command line, so only the checkpoint's name is trusted.

    Args:
        out: the run folder.
        state: its state (``checkpoint`` as recorded).
    """
    return Path(out) / CHECKPOINTS / Path(state["checkpoint"]).name


def prune_checkpoints(folder: Path, keep: int) -> None:
    """Keep only the last ``keep`` epochs' checkpoint files.

    Args:
        folder: the run's ``checkpoints/`` folder.
        keep: how many of the newest epochs to keep.
    """
    epochs = sorted({p.name.split(".")[0] for p in folder.glob("epoch-*")})
    for old in epochs[:-keep]:
        for path in folder.glob(f"{old}.*"):
            path.unlink()


def start_fresh(out: Path) -> None:
    """Clear what a run killed before its first recorded epoch left (checkpoints, history).

    Args:
        out: the run folder, which holds no ``state.json``.
    """
    shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)
    (out / HISTORY).unlink(missing_ok=True)
    (out / GRADIENTS).unlink(missing_ok=True)


class FolderLock:
    """An exclusive ``flock`` on ``<out>/.lock`` for as long as a run trains into the folder.

    The kernel drops the lock when the process ends, however it ends, so a crash never
    leaves a stale lock; the file itself only records who held it last.

    Args:
        out: the run folder (must exist).
    """

    def __init__(self, out: Path):
        self.path = Path(out) / LOCK
        self._handle = None

    def __enter__(self) -> FolderLock:
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for the lock's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise RunFolderError(
                f"{self.path.parent} is in use by {holder}: wait for it to finish or stop it, then run again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()} on {os.uname().nodename}\n")
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
