"""Finishing a run: the model it ships, the check that it reloads and scores, and its metadata.

The shipped model is the main head only (auxiliary heads are for training), in float32 even when
the run trained in bfloat16 (:func:`float32_twin`), saved atomically and scored again after
reloading; ``metadata.json`` records how the run was made and what it scored
(:mod:`googlenet.run_folder` names the files).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import keras

from . import cost
from .data import VALIDATION_SEED
from .evaluate import NOTE_TEST_ACCURACY, accuracy, first_epoch_reaching
from .models.heads import has_auxiliary_heads, inference_model
from .models.note import counting_twin
from .precision import DEFAULT_PRECISION
from .provenance import library_versions, machine_description, save_model_atomic, training_segments, write_json_atomic
from .recipes import Recipe
from .run_folder import METADATA, MODEL, VALIDATION_INDICES
from .splits import Split


def float32_twin(model: keras.Model, recipe: Recipe) -> keras.Model:
    """``model``'s weights in the same network built in float32 (a bfloat16-trained model, shipped).

    bfloat16 convolutions need a CPU that oneDNN can run them on; the float32 twin runs anywhere.

    Args:
        model: the trained model (its main head only, or all heads, as the twin is built).
        recipe: its recipe; the twin is built from it with ``precision="float32"``.
    """
    twin = replace(recipe, precision=DEFAULT_PRECISION).build()
    twin = inference_model(twin) if has_auxiliary_heads(twin) and not has_auxiliary_heads(model) else twin
    twin.set_weights(model.get_weights())
    return twin


def finalize(
    model: keras.Model, recipe: Recipe, out: Path, history: list[dict], data, commit: str | None, split: Split
) -> dict:
    """Save the self-contained model, check it reloads and scores, and write the metadata.

    Args:
        model: the trained model (auxiliary heads, if any, are dropped from the saved one).
        recipe: the run's recipe.
        out: the run folder.
        history: every epoch's row.
        data: the data set (its test images score the reloaded model).
        commit: the git commit that started the run.
        split: the images the run trained and validated on.
    """
    final = inference_model(model) if has_auxiliary_heads(model) else model
    if recipe.precision != DEFAULT_PRECISION:  # ship float32 inference: bfloat16 kernels need the CPU's support
        final = float32_twin(final, recipe)
    save_model_atomic(final, out / MODEL)
    reloaded = keras.models.load_model(out / MODEL, safe_mode=True)
    test_accuracy = accuracy(reloaded, data.x_test, data.y_test)
    train_images = len(split.x_train)
    validation = None
    if split.validation_indices is not None:
        indices = [int(i) for i in split.validation_indices]
        write_json_atomic(out / VALIDATION_INDICES, indices)
        validation = {
            "images": len(indices),
            "per_class": recipe.validation_per_class,
            "seed": VALIDATION_SEED,
            "indices_file": VALIDATION_INDICES,
            "indices_sha256": hashlib.sha256(json.dumps(indices).encode()).hexdigest(),
            "accuracy": accuracy(reloaded, split.x_val, split.y_val),
        }
    train_seconds = sum(row["train_seconds"] for row in history)
    reached = first_epoch_reaching(history, NOTE_TEST_ACCURACY)
    metadata = {
        "config": recipe.name,
        "run_config": recipe.record(),
        "epochs": recipe.epochs,
        "batch_size": recipe.batch_size,
        "seed": recipe.seed,
        "train_images": train_images,
        "validation": validation,  # None: no images held out (the run trained on all it was given)
        "test_accuracy": test_accuracy,
        "best_epoch_test_accuracy": max(row["test_accuracy"] for row in history),
        "params": cost.total_params(final),
        "trainable_params": cost.trainable_params(final),
        "multiply_adds": cost.total_macs(counting_twin(final)),  # the note's subclassed build via its twin
        "train_seconds": train_seconds,
        "images_per_second": train_images * len(history) / train_seconds,
        "wall_seconds": history[-1]["wall_seconds_since_start"],
        "epoch_reaching_91_24": reached["epoch"] if reached else None,
        "train_seconds_to_91_24": reached["train_seconds_total"] if reached else None,
        "git_commit": commit,
        "segments": training_segments(history),
        "versions": library_versions(),
        "machine": machine_description(),
        "model_file_bytes": (out / MODEL).stat().st_size,
    }
    if recipe.precision != DEFAULT_PRECISION:  # trained in bfloat16, shipped and scored in float32
        metadata["inference_precision"] = DEFAULT_PRECISION
    write_json_atomic(out / METADATA, metadata)
    return metadata
