"""Full training runs: train (or resume) a recipe into a run folder, finish it, load it back.

Killed at any moment and started again with the same folder, a run continues from its last
completed epoch: data order and augmentation depend only on (seed, epoch), dropout's random
state is reset from (seed, epoch), and the optimizer's state and step count come back from the
checkpoint, so the result equals an uninterrupted run. The folder's rules are in
:mod:`googlenet.run_folder`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from . import gradients, run_folder
from .data import FashionMNIST
from .evaluate import predict_classes
from .paths import results_dir
from .provenance import (
    git_commit,
    machine_description,
    process_started_at,
    write_json_atomic,
)
from .recipes import Recipe
from .run_finish import finalize
from .run_folder import CHECKPOINTS, GRADIENTS, HISTORY, METADATA, MODEL, STATE, VALIDATION_INDICES, FolderLock
from .splits import Split, training_split
from .training import Trainer, evaluation_dataset, learning_rate_for, reseed_generators, train_dataset


@dataclass(frozen=True)
class Run:
    """A finished run read from its folder: metadata, per-epoch history, and its model on demand.

    Attributes:
        folder: the run folder.
        metadata: ``metadata.json`` (how the run was made and what it scored).
        history: ``history.json``, one dict per epoch.
    """

    folder: Path
    metadata: dict
    history: list[dict]

    def load_model(self) -> keras.Model:
        """The run's final model, loaded in safe mode."""
        return keras.models.load_model(self.folder / MODEL, safe_mode=True)

    def gradient_norms(self) -> list[dict]:
        """The gradient probe's log: at initialisation (epoch 0) and after every epoch, each stage's norm.

        Each row is ``{"epoch": e, "main": {stage: norm}}``, with ``"with_heads"`` (the heads' losses
        added at the recipe's weight) for a model with auxiliary heads (:func:`googlenet.gradients.probe`).
        Refused for a run whose recipe had no probe, or whose log does not cover every epoch.
        """
        path = self.folder / GRADIENTS
        if not path.exists():
            raise FileNotFoundError(
                f"{path} is missing: {self.folder} was trained without a gradient probe (recipe gradient_probe=0)"
            )
        rows = json.loads(path.read_text())
        if [row["epoch"] for row in rows] != list(range(self.metadata["epochs"] + 1)):
            raise ValueError(
                f"{path} holds epochs {[row['epoch'] for row in rows]}, not 0 to {self.metadata['epochs']}: "
                f"the log and the run disagree; remake the run into an empty folder"
            )
        return rows

    def checked_test_classes(self, model: keras.Model, data: FashionMNIST) -> np.ndarray:
        """``model``'s class for every test image, refused unless they give the metadata's test accuracy.

        Args:
            model: the run's model (from :meth:`load_model`).
            data: the full Fashion-MNIST data set.

        Raises ``ValueError`` naming both accuracies: whatever is computed from the model next would
        not describe the run its metadata describes.
        """
        classes = predict_classes(model, data.x_test).astype(np.uint8)
        accuracy = float(np.mean(classes == data.y_test))
        if accuracy != self.metadata["test_accuracy"]:
            raise ValueError(
                f"{self.folder}: the saved model scores {accuracy:.4f} on the test images, its metadata "
                f"{self.metadata['test_accuracy']:.4f}; predictions are saved only for a model that scores what it says"
            )
        return classes


def load_run(name: str | os.PathLike) -> Run:
    """Load a finished run, checking that its files describe one and the same run.

    Args:
        name: a shipped run's name (``"improved"``: a folder under :func:`results_dir`), or the
            path of any run folder (``"./runs/x"``, absolute or with a separator).

    A missing file, or a history whose length differs from the metadata's epochs (a run being
    extended or interrupted while finishing), is an error naming the folder.
    """
    folder = results_dir() / name if isinstance(name, str) and os.sep not in name else Path(name)
    for needed in (METADATA, HISTORY):
        if not (folder / needed).exists():
            raise FileNotFoundError(f"{folder / needed} is missing: {folder} holds no finished run")
    metadata = json.loads((folder / METADATA).read_text())
    history = json.loads((folder / HISTORY).read_text())
    if len(history) != metadata.get("epochs"):
        raise ValueError(
            f"{folder}: metadata.json describes {metadata.get('epochs')} epochs but history.json holds "
            f"{len(history)}: the run is unfinished (being extended?); finish it with its command first"
        )
    return Run(folder, metadata, history)


def validation_run(folder: str | os.PathLike, written: tuple[str, ...], overwrite: bool) -> tuple[Run, np.ndarray]:
    """A finished run made with ``--validation``, about to be scored into new files of its folder.

    Args:
        folder: the run folder.
        written: the files the scoring will write there.
        overwrite: whether those may be replaced (else an existing one is an error naming ``--overwrite``).

    Returns the run and its validation images' positions in the training set.
    """
    run = load_run(Path(folder))
    existing = [name for name in written if (run.folder / name).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{run.folder / existing[0]} exists: add --overwrite to score the run again")
    if not (run.folder / VALIDATION_INDICES).exists():
        raise ValueError(
            f"{run.folder} holds no validation images ({VALIDATION_INDICES}): score a run made with --validation"
        )
    return run, np.asarray(json.loads((run.folder / VALIDATION_INDICES).read_text()))


def train_run(
    recipe: Recipe,
    out: str | os.PathLike,
    data: FashionMNIST,
    *,
    extend: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Train (or resume) ``recipe`` into the folder ``out`` and return its metadata.

    Args:
        recipe: what to train, with its epochs, batch size and seed.
        out: the run folder (see :mod:`googlenet.run_folder` for what may be in it).
        data: the data set (a :class:`googlenet.data.FashionMNIST`).
        extend: allow more epochs for a finished constant-rate run.
        progress: show a per-step progress bar.
        stop_after: end this call after that many epochs (tests simulate an interruption).
        log: where progress lines go.
    """
    out = Path(out)
    split = training_split(recipe, data)
    if recipe.batch_size > len(split.x_train):
        raise run_folder.RunFolderError(
            f"--batch-size {recipe.batch_size} is larger than the {len(split.x_train):,} training images"
        )
    run_folder.check_output_dir(out, recipe, extend=extend)  # refuse before creating anything
    out.mkdir(parents=True, exist_ok=True)
    with FolderLock(out):
        state = run_folder.check_output_dir(out, recipe, extend=extend)  # again, now that we hold the folder
        removed = run_folder.remove_temporaries(out)
        if removed:
            log(f"removed half-written files of an interrupted run: {', '.join(removed)}")
        if state is None:
            run_folder.start_fresh(out)
        elif (out / METADATA).exists():  # extending a finished run: it is unfinished until it ends again
            (out / METADATA).unlink()
        (out / CHECKPOINTS).mkdir(exist_ok=True)
        return _train(recipe, out, data, split, state, progress, stop_after, log)


def _train(recipe, out, data, split: Split, state, progress, stop_after, log) -> dict:
    x_train, y_train = split.x_train, split.y_train
    keras.utils.set_random_seed(recipe.seed)
    model = recipe.build()
    steps_per_epoch = int(np.ceil(len(x_train) / recipe.batch_size))
    trainer = Trainer(
        model,
        learning_rate_for(recipe, steps_per_epoch),
        aux_weight=recipe.aux_weight,
        optimizer=recipe.optimizer,
        label_smoothing=recipe.label_smoothing,
        ema_decay=recipe.ema_decay,
    )
    averages = {"average": trainer.average} if trainer.average is not None else {}
    checkpoint = tf.train.Checkpoint(model=model, optimizer=trainer.optimizer, **averages)

    history: list[dict] = []
    start_epoch = 1
    if state is not None:
        start_epoch = state["completed_epochs"] + 1
        history = run_folder.read_history(out, state["completed_epochs"])
        prefix = run_folder.checkpoint_prefix(out, state)
        try:
            checkpoint.read(str(prefix)).assert_existing_objects_matched()
        except Exception as error:  # a damaged checkpoint raises many types (IndexError, OpError...)
            raise run_folder.RunFolderError(
                f"{out}: the checkpoint {prefix} cannot be restored ({type(error).__name__}); it is damaged or "
                f"from another model. Nothing was changed; start a new run in another --out."
            ) from error
        log(f"resuming {out} after epoch {state['completed_epochs']}")
    run_started = state["run_started"] if state else time.time()
    commit = state.get("git_commit") if state else git_commit()  # the code that started the run
    previous_seconds = history[-1]["train_seconds_total"] if history else 0.0
    # A run may be continued later by other code or on another machine: every epoch records both.
    this_call = {"git_commit": git_commit(), "machine": machine_description()}

    probe_set = (x_train[: recipe.gradient_probe], y_train[: recipe.gradient_probe])
    norms = []  # the gradient log: epoch 0 (initialisation), then after every epoch
    if recipe.gradient_probe:
        completed = state["completed_epochs"] if state else 0
        norms = run_folder.read_history(out, completed + 1, GRADIENTS) if state else []
        if not norms:
            norms = [{"epoch": 0, **gradients.probe(model, *probe_set, aux_weight=recipe.aux_weight)}]
            write_json_atomic(out / GRADIENTS, norms)
    test_ds = evaluation_dataset(data.x_test, data.y_test)
    val_ds = evaluation_dataset(split.x_val, split.y_val) if split.x_val is not None else None
    done_here = 0
    for epoch in range(start_epoch, recipe.epochs + 1):
        trainer.reset()
        reseed_generators(model, recipe.seed * 1000 + epoch)
        bar = keras.utils.Progbar(steps_per_epoch, stateful_metrics=["loss", "accuracy"], verbose=1 if progress else 0)
        log(f"epoch {epoch}/{recipe.epochs}")
        t0 = time.perf_counter()
        batches = train_dataset(
            x_train,
            y_train,
            recipe.batch_size,
            recipe.seed,
            epoch,
            recipe.augment,
            shift_pixels=recipe.shift_pixels,
            flip=recipe.flip,
            erasing=recipe.erasing,
        )
        for i, (images, labels) in enumerate(batches, start=1):
            trainer.train_step(images, labels)
            if progress and (i % 20 == 0 or i == steps_per_epoch):
                metrics = [
                    ("loss", float(trainer.train_loss.result())),
                    ("accuracy", float(trainer.train_accuracy.result())),
                ]
                bar.update(i, metrics)
        train_seconds = time.perf_counter() - t0
        scores = {"val": trainer.score(val_ds)} if val_ds is not None else {}
        scores["test"] = trainer.score(test_ds)  # with a weight average: the averaged weights
        if trainer.average is not None and val_ds is not None:  # and the raw weights, to compare
            scores["val_raw"] = trainer.score(val_ds, averaged=False)
        previous_seconds += train_seconds
        row = {
            "epoch": epoch,
            "train_loss": float(trainer.train_loss.result()),
            "train_accuracy": float(trainer.train_accuracy.result()),
            **{f"{part}_loss": loss for part, (loss, _) in scores.items()},
            **{f"{part}_accuracy": accuracy for part, (_, accuracy) in scores.items()},
            "train_seconds": train_seconds,
            "train_seconds_total": previous_seconds,
            "images_per_second": len(x_train) / train_seconds,
            "finished_at": time.time(),
            "wall_seconds_since_start": time.time() - run_started,
            "seconds_since_process_start": time.time() - process_started_at(),  # the cold start: imports, data
            **this_call,
        }
        history.append(row)
        log(
            f"epoch {epoch}: train loss {row['train_loss']:.4f} acc {row['train_accuracy']:.4f} | "
            + (f"val acc {row['val_accuracy']:.4f} | " if "val_accuracy" in row else "")
            + f"test loss {row['test_loss']:.4f} acc {row['test_accuracy']:.4f} | "
            f"{row['images_per_second']:.0f} img/s"
        )
        if recipe.gradient_probe:
            norms.append({"epoch": epoch, **gradients.probe(model, *probe_set, aux_weight=recipe.aux_weight)})
            write_json_atomic(out / GRADIENTS, norms)
        prefix = checkpoint.write(str(out / CHECKPOINTS / f"epoch-{epoch:04d}"))
        write_json_atomic(out / HISTORY, history)
        relative = Path(prefix).relative_to(out).as_posix()  # the folder can move: keep the path inside it
        new_state = {
            "completed_epochs": epoch,
            "checkpoint": relative,
            "config": recipe.record(),
            "run_started": run_started,
            "git_commit": commit,
        }
        write_json_atomic(out / STATE, new_state)
        run_folder.prune_checkpoints(out / CHECKPOINTS, keep=2)
        done_here += 1
        if stop_after is not None and done_here >= stop_after and epoch < recipe.epochs:
            return {"interrupted_after_epoch": epoch}

    if trainer.average is not None:
        trainer.average.copy_to_model()  # the model saved and scored is the averaged one
    return finalize(model, recipe, out, history, data, commit, split)
