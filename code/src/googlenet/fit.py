"""Full training runs: tf.data pipeline with augmentation, GradientTape steps, checkpoints, resume.

A run lives in one output folder::

    state.json      completed epochs and the run's configuration (written last, atomically)
    history.json    one row per completed epoch (atomic)
    checkpoints/    model + optimizer state after each epoch (the last two are kept)
    model.keras     the final self-contained model (raw pixels in, logits out)
    metadata.json   how the run was made and what it scored

Killed at any moment and started again with the same folder, a run continues from its last
completed epoch: data order and augmentation depend only on (seed, epoch), and the optimizer's
state and step count come back from the checkpoint, so the result equals an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from . import baseline, cost, reduced
from .evaluate import NOTE_TEST_ACCURACY, first_epoch_reaching, predict_classes
from .models import AUX_LOSS_WEIGHT, inference_model
from .train import weighted_loss

STATE = "state.json"
HISTORY = "history.json"
METADATA = "metadata.json"
MODEL = "model.keras"


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a run's result (and must match when resuming)."""

    config: str
    epochs: int
    batch_size: int
    seed: int
    learning_rate: float
    augment: bool
    schedule: str  # "constant" (the study note) or "cosine"
    model_args: dict = field(default_factory=dict)


# Named configurations of the command line.
CONFIGS: dict[str, dict] = {
    # The study note: 5 blocks of 16 filters at 28x28, Adam at its default rate, augmentation.
    "writeup": {"builder": "writeup", "learning_rate": 1e-3, "schedule": "constant", "augment": True, "model_args": {}},
    # The book's build: BN stem that halves to 14x14, GoogLeNet-shaped widths, cosine decay.
    "improved": {
        "builder": "improved",
        "learning_rate": 2e-3,
        "schedule": "cosine",
        "augment": True,
        "model_args": {"num_modules": 5, "width": 1.0},
    },
}
# The ablations (chapter 9): the improved configuration with one thing changed each.
_IMPROVED = {k: v for k, v in CONFIGS["improved"].items() if k != "model_args"}
CONFIGS |= {
    "wide": _IMPROVED | {"model_args": {"num_modules": 5, "width": 2.0}},  # every branch x2
    "deep": _IMPROVED | {"model_args": {"num_modules": 9, "width": 1.0}},  # GoogLeNet's 9 modules
    "deep_aux": _IMPROVED | {"model_args": {"num_modules": 9, "width": 1.0, "aux_heads": True}},
    "no_augment": _IMPROVED | {"augment": False, "model_args": {"num_modules": 5, "width": 1.0}},
    # Stacked 3x3 convolutions with about the improved build's multiply-adds.
    "vgg": _IMPROVED | {"builder": "vgg", "model_args": {"base_width": baseline.DEFAULT_BASE_WIDTH}},
}


def build_model(config: RunConfig) -> keras.Model:
    """The model a configuration names, freshly initialised."""
    builder = CONFIGS[config.config]["builder"]
    if builder == "writeup":
        return reduced.writeup_net(**config.model_args)
    if builder == "vgg":
        return baseline.vgg_net(**config.model_args)
    return reduced.improved_net(**config.model_args)


def make_config(name: str, epochs: int, batch_size: int, seed: int, **overrides) -> RunConfig:
    """Validate the command line's choices and complete them from the named configuration."""
    if name not in CONFIGS:
        raise ValueError(f"unknown config {name!r}: choose one of {', '.join(sorted(CONFIGS))}")
    for label, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{label} must be an integer >= 1, got {value!r}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    base = {k: v for k, v in CONFIGS[name].items() if k != "builder"} | overrides
    return RunConfig(config=name, epochs=epochs, batch_size=batch_size, seed=seed, **base)


# ------------------------------------------------------------------------------ data


def make_augmenter(seed: int) -> keras.Sequential:
    """Random shifts of up to 2 pixels and horizontal flips, as Keras preprocessing layers.

    Fashion-MNIST items are centred and left-right symmetric enough that a flip keeps the class;
    vertical flips and rotations would not (shoes point one way up).
    """
    return keras.Sequential(
        [
            keras.layers.RandomTranslation(2 / 28, 2 / 28, fill_mode="constant", seed=seed),
            keras.layers.RandomFlip("horizontal", seed=seed + 1),
        ],
        name="augment",
    )


def train_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int, epoch: int, augment: bool):
    """One epoch of shuffled, batched, optionally augmented data: a pure function of (seed, epoch)."""
    order = np.random.default_rng([seed, epoch]).permutation(len(images))
    x = images[order][..., None].astype("float32")
    y = keras.utils.to_categorical(labels[order], reduced.NUM_CLASSES).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
    if augment:
        augmenter = make_augmenter(seed * 1000 + epoch)
        ds = ds.map(lambda a, b: (augmenter(a, training=True), b), num_parallel_calls=1, deterministic=True)
    return ds.prefetch(2)


def test_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int = 500):
    x = images[..., None].astype("float32")
    y = keras.utils.to_categorical(labels, reduced.NUM_CLASSES).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size).prefetch(2)


# ----------------------------------------------------------------------------- steps


class Trainer:
    """The study note's loop, made correct: one-hot labels, categorical cross-entropy, Adam,
    train/test loss and accuracy metrics, and compiled ``train_step`` / ``test_step``."""

    def __init__(self, model: keras.Model, learning_rate, aux_weight: float = AUX_LOSS_WEIGHT):
        self.model = model
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.loss_object = keras.losses.CategoricalCrossentropy(from_logits=True)
        self.aux_weight = aux_weight
        self.train_loss = keras.metrics.Mean(name="train_loss")
        self.train_accuracy = keras.metrics.CategoricalAccuracy(name="train_accuracy")
        self.test_loss = keras.metrics.Mean(name="test_loss")
        self.test_accuracy = keras.metrics.CategoricalAccuracy(name="test_accuracy")
        self.optimizer.build(model.trainable_variables)

    def _main(self, outputs):
        return outputs["main"] if isinstance(outputs, dict) else outputs

    @tf.function(jit_compile=False, reduce_retracing=True)
    def train_step(self, images, labels):
        with tf.GradientTape() as tape:
            outputs = self.model(images, training=True)
            if not isinstance(outputs, dict):
                outputs = {"main": outputs}
            losses = {name: self.loss_object(labels, logits) for name, logits in outputs.items()}
            total = weighted_loss(losses, self.aux_weight)  # main + 0.3 x each auxiliary head
        grads = tape.gradient(total, self.model.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables, strict=True))
        self.train_loss.update_state(losses["main"])
        self.train_accuracy.update_state(labels, outputs["main"])

    @tf.function(jit_compile=False, reduce_retracing=True)
    def test_step(self, images, labels):
        main = self._main(self.model(images, training=False))
        self.test_loss.update_state(self.loss_object(labels, main))
        self.test_accuracy.update_state(labels, main)

    def reset(self) -> None:
        for metric in (self.train_loss, self.train_accuracy, self.test_loss, self.test_accuracy):
            metric.reset_state()


def reseed_generators(model: keras.Model, seed: int) -> int:
    """Reset every random-number state inside the model (dropout's) to a value fixed by ``seed``.

    Called at the start of each epoch with a seed derived from (run seed, epoch), so a resumed
    run draws the same dropout masks as an uninterrupted one. Returns how many were reset.
    """
    count = 0
    for layer in model._flatten_layers(include_self=True):
        generator = getattr(layer, "seed_generator", None)
        if isinstance(generator, keras.random.SeedGenerator):
            count += 1
            state = generator.state
            state.assign(np.array([seed, count], dtype=keras.backend.standardize_dtype(state.dtype)))
    return count


def learning_rate_for(config: RunConfig, steps_per_epoch: int):
    if config.schedule == "constant":
        return config.learning_rate
    if config.schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=config.epochs * steps_per_epoch)
    raise ValueError(f"unknown schedule {config.schedule!r}")


# ------------------------------------------------------------------------------ files


def write_json_atomic(path: Path, payload: object) -> None:
    """Write JSON so that a reader (or a resumed run) never sees a half-written file."""
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


def check_output_dir(out: Path, config: RunConfig) -> dict | None:
    """Refuse an unusable folder before anything is written; return the state to resume, if any."""
    out = Path(out)
    probe_dir = out if out.exists() else next((p for p in out.parents if p.exists()), Path("/"))
    if out.exists() and not out.is_dir():
        raise ValueError(f"output folder {out} exists and is not a folder")
    try:  # os.access says yes to root even on read-only file systems: really try
        fd, probe = tempfile.mkstemp(dir=probe_dir, prefix=".write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise PermissionError(
            f"output folder {out} is not writable ({probe_dir}: {error.strerror}); choose another --out"
        ) from error
    state_path = out / STATE
    if not state_path.exists():
        if out.exists() and any(out.iterdir()):
            raise ValueError(f"{out} is not empty and holds no {STATE}: refusing to mix a new run into it")
        return None
    state = json.loads(state_path.read_text())
    previous = state["config"]
    if previous["config"] != config.config:
        raise ValueError(
            f"{out} holds a run of config {previous['config']!r}; it cannot resume as {config.config!r}. "
            f"Use another --out or the same --config."
        )
    mismatched = [k for k in ("batch_size", "seed", "learning_rate", "augment", "schedule", "model_args")
                  if previous[k] != asdict(config)[k]]  # fmt: skip
    if mismatched:
        raise ValueError(f"{out} holds a run with different {', '.join(mismatched)}; resume with the same settings")
    if state["completed_epochs"] >= config.epochs and previous["epochs"] == config.epochs:
        return state
    if previous["epochs"] != config.epochs and config.schedule != "constant":
        raise ValueError(
            f"{out} was started for {previous['epochs']} epochs with a {config.schedule} schedule; "
            f"changing --epochs would change the schedule. Resume with --epochs {previous['epochs']}."
        )
    return state


def machine_description() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    return {"platform": platform.platform(), "cpu": cpu, "cpu_count": os.cpu_count(), "gpus": gpus}


def library_versions() -> dict:
    return {"python": sys.version.split()[0], "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": np.__version__}  # fmt: skip


def git_commit() -> str | None:
    """HEAD of the repository holding the package, with ``-dirty`` if the package's own files differ.

    Only the package is checked: a run's results files change while it trains, and book edits do
    not change what a run computes.
    """
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parent)  # fmt: skip
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "."], capture_output=True,
                               text=True, cwd=Path(__file__).resolve().parent).stdout.strip()  # fmt: skip
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


# ------------------------------------------------------------------------------ run


def train_run(
    config: RunConfig,
    out: str | os.PathLike,
    data,
    *,
    progress: bool = True,
    stop_after: int | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Train (or resume) a run into ``out`` and return its metadata.

    ``data`` is a :class:`googlenet.data.FashionMNIST` (or anything with the same arrays).
    ``stop_after`` ends the process's work after that many epochs of this call (for tests
    that simulate an interruption).
    """
    out = Path(out)
    state = check_output_dir(out, config)
    out.mkdir(parents=True, exist_ok=True)
    (out / "checkpoints").mkdir(exist_ok=True)

    keras.utils.set_random_seed(config.seed)
    model = build_model(config)
    steps_per_epoch = int(np.ceil(len(data.x_train) / config.batch_size))
    trainer = Trainer(model, learning_rate_for(config, steps_per_epoch))
    checkpoint = tf.train.Checkpoint(model=model, optimizer=trainer.optimizer)

    history: list[dict] = []
    start_epoch = 1
    if state is not None:
        start_epoch = state["completed_epochs"] + 1
        history = json.loads((out / HISTORY).read_text())[: state["completed_epochs"]]
        checkpoint.read(str(checkpoint_prefix(out, state))).assert_existing_objects_matched()
        log(f"resuming {out} after epoch {state['completed_epochs']}")
    run_started = state["run_started"] if state else time.time()
    commit = state.get("git_commit") if state else git_commit()  # the code that started the run
    previous_seconds = history[-1]["train_seconds_total"] if history else 0.0
    # A run may be continued later by other code or on another machine: every epoch records both.
    this_call = {"git_commit": git_commit(), "machine": machine_description()}

    test_ds = test_dataset(data.x_test, data.y_test)
    done_here = 0
    for epoch in range(start_epoch, config.epochs + 1):
        trainer.reset()
        reseed_generators(model, config.seed * 1000 + epoch)
        bar = keras.utils.Progbar(steps_per_epoch, stateful_metrics=["loss", "accuracy"],
                                  verbose=1 if progress else 0)  # fmt: skip
        log(f"epoch {epoch}/{config.epochs}")
        t0 = time.perf_counter()
        for i, (images, labels) in enumerate(train_dataset(data.x_train, data.y_train, config.batch_size,
                                                           config.seed, epoch, config.augment), start=1):  # fmt: skip
            trainer.train_step(images, labels)
            if progress and (i % 20 == 0 or i == steps_per_epoch):
                bar.update(i, [("loss", float(trainer.train_loss.result())),
                               ("accuracy", float(trainer.train_accuracy.result()))])  # fmt: skip
        train_seconds = time.perf_counter() - t0
        for images, labels in test_ds:
            trainer.test_step(images, labels)
        previous_seconds += train_seconds
        row = {
            "epoch": epoch,
            "train_loss": float(trainer.train_loss.result()),
            "train_accuracy": float(trainer.train_accuracy.result()),
            "test_loss": float(trainer.test_loss.result()),
            "test_accuracy": float(trainer.test_accuracy.result()),
            "train_seconds": train_seconds,
            "train_seconds_total": previous_seconds,
            "images_per_second": len(data.x_train) / train_seconds,
            "finished_at": time.time(),
            "wall_seconds_since_start": time.time() - run_started,
            **this_call,
        }
        history.append(row)
        log(
            f"epoch {epoch}: train loss {row['train_loss']:.4f} acc {row['train_accuracy']:.4f} | "
            f"test loss {row['test_loss']:.4f} acc {row['test_accuracy']:.4f} | "
            f"{row['images_per_second']:.0f} img/s"
        )
        prefix = checkpoint.write(str(out / "checkpoints" / f"epoch-{epoch:04d}"))
        write_json_atomic(out / HISTORY, history)
        relative = Path(prefix).relative_to(out).as_posix()  # the folder can move: keep the path inside it
        write_json_atomic(out / STATE, {"completed_epochs": epoch, "checkpoint": relative, "config": asdict(config),
                                        "run_started": run_started, "git_commit": commit})  # fmt: skip
        _prune_checkpoints(out / "checkpoints", keep=2)
        done_here += 1
        if stop_after is not None and done_here >= stop_after and epoch < config.epochs:
            return {"interrupted_after_epoch": epoch}

    return finalize(model, config, out, history, data, commit)


def training_segments(history: list[dict]) -> list[dict]:
    """Consecutive epochs trained by the same commit on the same machine, in order.

    Epochs recorded before history rows carried this information show ``None`` for both.
    """
    segments: list[dict] = []
    for row in history:
        key = (row.get("git_commit"), row.get("machine"))
        if segments and (segments[-1]["git_commit"], segments[-1]["machine"]) == key:
            segments[-1]["last_epoch"] = row["epoch"]
        else:
            segments.append({"first_epoch": row["epoch"], "last_epoch": row["epoch"], "git_commit": key[0],
                             "machine": key[1]})  # fmt: skip
    return segments


def checkpoint_prefix(out: Path, state: dict) -> Path:
    """The checkpoint a state file points to, found inside ``out`` wherever the run is resumed from.

    States record ``checkpoints/epoch-NNNN`` relative to the run folder; older ones recorded the
    path as given on the command line, so only the checkpoint's name is trusted.
    """
    return Path(out) / "checkpoints" / Path(state["checkpoint"]).name


def _prune_checkpoints(folder: Path, keep: int) -> None:
    epochs = sorted({p.name.split(".")[0] for p in folder.glob("epoch-*")})
    for old in epochs[:-keep]:
        for path in folder.glob(f"{old}.*"):
            path.unlink()


def evaluate_accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy on raw uint8 images (the models normalise inside)."""
    return float(np.mean(predict_classes(model, images) == labels))


def finalize(model: keras.Model, config: RunConfig, out: Path, history: list[dict], data, commit: str | None) -> dict:
    """Save the self-contained model, check it reloads, and write the metadata."""
    outputs = getattr(model, "outputs", None)  # None for the subclassed write-up model
    final = inference_model(model) if outputs and len(outputs) > 1 else model
    final.save(out / MODEL)
    reloaded = keras.models.load_model(out / MODEL, safe_mode=True)
    test_accuracy = evaluate_accuracy(reloaded, data.x_test, data.y_test)
    train_seconds = sum(row["train_seconds"] for row in history)
    reached = first_epoch_reaching(history, NOTE_TEST_ACCURACY)
    metadata = {
        "config": config.config,
        "run_config": asdict(config),
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "seed": config.seed,
        "test_accuracy": test_accuracy,
        "best_epoch_test_accuracy": max(row["test_accuracy"] for row in history),
        "params": cost.total_params(final),
        "trainable_params": cost.trainable_params(final),
        # The subclassed write-up model is counted through its functional twin (same layers).
        "multiply_adds": cost.total_macs(
            reduced.writeup_functional(**config.model_args) if isinstance(final, reduced.InceptionNet) else final
        ),
        "train_seconds": train_seconds,
        "images_per_second": len(data.x_train) * len(history) / train_seconds,
        "wall_seconds": history[-1]["wall_seconds_since_start"],
        "epoch_reaching_91_24": reached["epoch"] if reached else None,
        "train_seconds_to_91_24": reached["train_seconds_total"] if reached else None,
        "git_commit": commit,
        "segments": training_segments(history),
        "versions": library_versions(),
        "machine": machine_description(),
        "model_file_bytes": (out / MODEL).stat().st_size,
    }
    write_json_atomic(out / METADATA, metadata)
    return metadata
