"""Training: the input pipelines, the augmentation, the schedule and the one training loop.

:class:`Trainer` is the book's only training step, for a model with one head or several
(main + auxiliary, weighted as in the paper); the full runs of :mod:`googlenet.runs`, the
benchmark and chapter 6's short demonstration all use it.
"""

from __future__ import annotations

import contextlib

import keras
import numpy as np
import tensorflow as tf

from .averaging import WeightAverage
from .checks import choice, fraction, positive_int
from .data import INPUT_SHAPE, NUM_CLASSES
from .models.heads import AUX_LOSS_WEIGHT, MAIN, as_heads, main_output, weighted_loss
from .recipes import Recipe

OPTIMIZERS = {"adam": keras.optimizers.Adam}
"""The optimisers a recipe can name."""


def make_augmenter(seed: int, shift_pixels: int = 2, flip: bool = True, size: int = INPUT_SHAPE[0]) -> keras.Sequential:
    """Random shifts of up to ``shift_pixels`` pixels and horizontal flips, as Keras layers.

    Fashion-MNIST items are centred and left-right symmetric enough that a flip keeps the class;
    vertical flips and rotations would not (shoes point one way up).

    Args:
        seed: seed of both random layers (the flip uses ``seed + 1``).
        shift_pixels: largest shift each way, in pixels (empty borders are filled with 0).
        flip: whether to flip left-right with probability 1/2.
        size: image height and width in pixels (the shift is a fraction of it).
    """
    shift = shift_pixels / size  # Keras takes the shift as a fraction of the image
    fill = "constant"  # the borders a shift empties are filled with fill_value, 0
    steps = [keras.layers.RandomTranslation(shift, shift, fill_mode=fill, seed=seed)]
    if flip:
        steps.append(keras.layers.RandomFlip("horizontal", seed=seed + 1))
    return keras.Sequential(steps, name="augment")


def train_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    seed: int,
    epoch: int,
    augment: bool,
    *,
    shift_pixels: int = 2,
    flip: bool = True,
) -> tf.data.Dataset:
    """One epoch of shuffled, batched, optionally augmented data: a pure function of (seed, epoch).

    Args:
        images: raw uint8 images (N, 28, 28).
        labels: class indices (N,); the dataset yields them one-hot (float32).
        batch_size: images per batch (the last batch may be smaller).
        seed: the run's seed.
        epoch: the epoch number (1-based); order and augmentation depend on it.
        augment: apply :func:`make_augmenter` with ``shift_pixels`` and ``flip``.
    """
    order = np.random.default_rng([seed, epoch]).permutation(len(images))
    x = images[order][..., None].astype("float32")  # N x 28 x 28 x 1
    y = keras.utils.to_categorical(labels[order], NUM_CLASSES).astype("float32")  # N x 10
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
    if augment:
        augmenter = make_augmenter(seed * 1000 + epoch, shift_pixels, flip)
        ds = ds.map(lambda a, b: (augmenter(a, training=True), b), num_parallel_calls=1, deterministic=True)
    return ds.prefetch(2)


def evaluation_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int = 500) -> tf.data.Dataset:
    """Images and one-hot labels in fixed order, for scoring during a run.

    Args:
        images: raw uint8 images (N, 28, 28).
        labels: class indices (N,).
        batch_size: images per batch.
    """
    x = images[..., None].astype("float32")
    y = keras.utils.to_categorical(labels, NUM_CLASSES).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size).prefetch(2)


def note_pipeline_batches(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int):
    """The study note's augmentation: a Keras ``ImageDataGenerator`` yielding NumPy batches.

    Shifts of up to 2 pixels and horizontal flips, like :func:`train_dataset`, so both
    pipelines do the same work (the benchmark compares them). ``ImageDataGenerator`` is
    deprecated; it still imports from ``tensorflow.keras.preprocessing.image`` (a legacy module
    kept for compatibility) and needs SciPy for the shifts.

    Args:
        images: raw uint8 images (N, 28, 28).
        labels: class indices (N,); yielded one-hot.
        batch_size: images per batch.
        seed: seed of the shuffling and the augmentation.
    """
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    generator = ImageDataGenerator(
        width_shift_range=2, height_shift_range=2, horizontal_flip=True, fill_mode="constant", cval=0.0
    )
    x = images[..., None].astype("float32")
    y = keras.utils.to_categorical(labels, NUM_CLASSES).astype("float32")
    return generator.flow(x, y, batch_size=batch_size, shuffle=True, seed=seed)


def learning_rate_for(recipe: Recipe, steps_per_epoch: int):
    """The optimiser's learning rate: a number, or a schedule over the run's ``epochs * steps_per_epoch`` steps.

    Args:
        recipe: the run's recipe (its learning rate, schedule and epochs).
        steps_per_epoch: training steps in one epoch.
    """
    if recipe.schedule == "constant":
        return recipe.learning_rate
    return keras.optimizers.schedules.CosineDecay(recipe.learning_rate, decay_steps=recipe.epochs * steps_per_epoch)


class Trainer:
    """The study note's loop, made correct: Adam, cross-entropy on logits, every head's loss.

    ``train_step`` returns each head's loss and the paper's weighted ``total`` for the batch,
    and updates the running train metrics of the main head; ``test_step`` scores the main head.

    Args:
        model: a model returning logits, or a dict of heads' logits with ``"main"``.
        learning_rate: Adam's step size, a number or a Keras schedule.
        aux_weight: weight of every auxiliary head's loss (0.3 in the paper).
        sparse_labels: labels are class indices; otherwise one-hot rows (the full runs).
        optimizer: the optimiser's name, a key of :data:`OPTIMIZERS`.
        label_smoothing: Inception-v3's label smoothing: the training targets become
            ``(1 - label_smoothing) * one_hot + label_smoothing / classes`` (one-hot labels only;
            the scores on held-out images use the plain cross-entropy).
        ema_decay: keep an exponential moving average of the weights with this decay
            (:class:`~googlenet.averaging.WeightAverage`) and score with it; 0: none.
    """

    def __init__(
        self,
        model: keras.Model,
        learning_rate,
        aux_weight: float = AUX_LOSS_WEIGHT,
        sparse_labels: bool = False,
        optimizer: str = "adam",
        label_smoothing: float = 0.0,
        ema_decay: float = 0.0,
    ):
        self.model = model
        self.optimizer = OPTIMIZERS[choice("optimizer", optimizer, OPTIMIZERS)](learning_rate)
        self.aux_weight = aux_weight
        fraction("label_smoothing", label_smoothing)
        if sparse_labels and label_smoothing:
            raise ValueError("label_smoothing needs one-hot labels (sparse_labels=False): Keras's sparse loss has none")
        if sparse_labels:
            self.loss_object = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            self.training_loss = self.loss_object
            accuracy = keras.metrics.SparseCategoricalAccuracy
        else:
            self.loss_object = keras.losses.CategoricalCrossentropy(from_logits=True)
            self.training_loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=label_smoothing)
            accuracy = keras.metrics.CategoricalAccuracy
        self.average = WeightAverage(model, ema_decay) if ema_decay else None
        self.train_loss = keras.metrics.Mean(name="train_loss")
        self.train_accuracy = accuracy(name="train_accuracy")
        self.test_loss = keras.metrics.Mean(name="test_loss")
        self.test_accuracy = accuracy(name="test_accuracy")
        self.optimizer.build(model.trainable_variables)

    # autograph=False: AutoGraph re-reads a function's source file when it first traces it, so a
    # file edited during a run (test_step is first traced after the first epoch) would be
    # converted from the wrong lines; it once silently scored nothing. No step needs it.
    @tf.function(jit_compile=False, reduce_retracing=True, autograph=False)
    def train_step(self, images, labels):
        with tf.GradientTape() as tape:
            outputs = as_heads(self.model(images, training=True))
            losses = {h: self.training_loss(labels, out) for h, out in outputs.items()}
            total = weighted_loss(losses, self.aux_weight)  # main + 0.3 x each aux head
        weights = self.model.trainable_variables
        grads = tape.gradient(total, weights)
        self.optimizer.apply_gradients(zip(grads, weights, strict=True))
        if self.average is not None:
            self.average.update()
        self.train_loss.update_state(losses[MAIN])
        self.train_accuracy.update_state(labels, outputs[MAIN])
        return losses | {"total": total}

    @tf.function(jit_compile=False, reduce_retracing=True, autograph=False)
    def test_step(self, images, labels):
        main = main_output(self.model(images, training=False))
        self.test_loss.update_state(self.loss_object(labels, main))
        self.test_accuracy.update_state(labels, main)

    def reset(self) -> None:
        """Zero the running metrics (at the start of each epoch)."""
        for metric in (self.train_loss, self.train_accuracy, self.test_loss, self.test_accuracy):
            metric.reset_state()

    def score(self, dataset, averaged: bool = True) -> tuple[float, float]:
        """Loss and accuracy of the main head on a whole dataset (the evaluation metrics are reset first).

        Args:
            dataset: batches of (images, labels) as :func:`evaluation_dataset` makes them.
            averaged: with a weight average, score the averaged weights (``False``: the raw ones).

        Raises ``RuntimeError`` if the metrics did not count every image (scores would be wrong).
        """
        self.test_loss.reset_state()
        self.test_accuracy.reset_state()
        images_seen = 0
        with self.average.swapped_in() if self.average is not None and averaged else contextlib.nullcontext():
            for images, labels in dataset:
                self.test_step(images, labels)
                images_seen += int(images.shape[0])
        counted = int(self.test_accuracy.count.numpy())
        if counted != images_seen:
            raise RuntimeError(
                f"the test step counted {counted:,} of the {images_seen:,} images it was given: the scores would be "
                "wrong. Was the package's source edited while this process ran? Restart it."
            )
        return float(self.test_loss.result()), float(self.test_accuracy.result())


def _all_layers(model: keras.Model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def reseed_generators(model: keras.Model, seed: int) -> int:
    """Reset every random-number state inside the model (dropout's) to a value fixed by ``seed``.

    Called at the start of each epoch with a seed derived from (run seed, epoch), so a resumed
    run draws the same dropout masks as an uninterrupted one. Returns how many were reset.

    Args:
        model: the model whose dropout (and other random layers') states to reset.
        seed: the value the states start from.

    Raises ``RuntimeError`` if the model holds random states this walk cannot reach (inside a
    custom layer), since a resumed run would then differ from an uninterrupted one.
    """
    count = 0
    for layer in _all_layers(model):
        generator = getattr(layer, "seed_generator", None)
        if isinstance(generator, keras.random.SeedGenerator):
            count += 1
            state = generator.state
            state.assign(np.array([seed, count], dtype=keras.backend.standardize_dtype(state.dtype)))
    states = sum(1 for v in model.non_trainable_variables if v.path.endswith("seed_generator_state"))
    if states != count:
        raise RuntimeError(f"{model.name} holds {states} random states but only {count} could be reseeded")
    return count


def run_steps(
    step, images: np.ndarray, labels: np.ndarray, steps: int, batch_size: int, seed: int = 0
) -> dict[str, list[float]]:
    """Run ``steps`` training steps on shuffled mini-batches; return every loss per step.

    Args:
        step: a training step such as :meth:`Trainer.train_step`, returning a dict of losses.
        images: training images as the model takes them.
        labels: their labels, in the form ``step`` expects.
        steps: number of steps.
        batch_size: images per step; the data are reshuffled each time they run out.
        seed: seed of the shuffling.
    """
    positive_int("steps", steps)
    positive_int("batch_size", batch_size)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    rng = np.random.default_rng(seed)
    history: dict[str, list[float]] = {}
    order = np.array([], dtype=int)
    for _ in range(steps):
        if len(order) < batch_size:
            order = np.concatenate([order, rng.permutation(len(images))])
        batch, order = order[:batch_size], order[batch_size:]
        result = step(tf.constant(images[batch]), tf.constant(labels[batch]))
        for name, value in result.items():
            history.setdefault(name, []).append(float(value))
    return history
