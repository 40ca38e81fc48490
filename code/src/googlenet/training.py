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


ERASING_AREA = (0.02, 0.4)
"""Smallest and largest share of the image an erased rectangle covers (Zhong et al.'s s_l, s_h)."""
ERASING_MIN_ASPECT = 0.3
"""Smallest height/width ratio of an erased rectangle (r_1; the largest is 1 / r_1)."""
ERASING_ATTEMPTS = 10
"""Rectangles drawn per image; the first that fits is erased, and none if none fits."""


def random_erasing(
    images: tf.Tensor,
    probability: float,
    seed: tf.Tensor,
    *,
    area: tuple[float, float] = ERASING_AREA,
    min_aspect: float = ERASING_MIN_ASPECT,
    attempts: int = ERASING_ATTEMPTS,
    max_value: float = 255.0,
) -> tf.Tensor:
    """Zhong et al.'s random erasing on a batch: a random rectangle of each chosen image set to noise.

    Each image is chosen with ``probability``. For it, a rectangle's area (a share of the image,
    uniform in ``area``) and height/width ratio (uniform from ``min_aspect`` to its inverse) are
    drawn, its sides rounded to pixels, until one fits inside the image (the paper's algorithm
    retries; here ``attempts`` are drawn at once and the first that fits is used). Its position is
    uniform over the places it fits, and its pixels get values uniform in [0, ``max_value``), as
    in the paper (the authors' code fills a constant instead). A pure function of ``seed``.

    Args:
        images: a batch N x H x W x C of float pixels from 0 to ``max_value`` (a tensor or array).
        probability: chance that an image is erased (the paper's p; 0.5 in its experiments).
        seed: two integers (a pair or a shape-(2,) tensor) for TensorFlow's stateless random ops.
        area: the smallest and largest share of the image a rectangle covers.
        min_aspect: the smallest height/width ratio; the largest is its inverse.
        attempts: rectangles drawn per image before giving up.
        max_value: the largest pixel value (the noise is drawn below it).
    """
    fraction("probability", probability, allow_one=True)
    low, high = area
    if not 0 < low <= high < 1:
        raise ValueError(f"area must be (low, high) with 0 < low <= high < 1, got {area!r}")
    if not 0 < min_aspect <= 1:
        raise ValueError(f"min_aspect must be in (0, 1], got {min_aspect!r}")
    positive_int("attempts", attempts)
    images = tf.convert_to_tensor(images)
    if not images.dtype.is_floating or images.shape.rank != 4:
        raise ValueError(f"images must be a float batch N x H x W x C, got {images.dtype.name} of shape {images.shape}")
    n = tf.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    keys = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 5)
    chosen = tf.random.stateless_uniform([n], keys[0]) < probability  # N
    target = tf.random.stateless_uniform([n, attempts], keys[1], low, high) * (height * width)  # N x A
    aspect = tf.random.stateless_uniform([n, attempts], keys[2], min_aspect, 1 / min_aspect)  # N x A
    tall = tf.round(tf.sqrt(target * aspect))  # rectangle heights, N x A
    wide = tf.round(tf.sqrt(target / aspect))  # and widths
    fits = (tall < height) & (wide < width)
    first = tf.argmax(tf.cast(fits, tf.int32), axis=1)  # first fitting attempt (0 when none fits)
    tall = tf.gather(tall, first, batch_dims=1)  # N
    wide = tf.gather(wide, first, batch_dims=1)
    corner = tf.random.stateless_uniform([n, 2], keys[3])  # N x 2, uniform over the places that fit
    top = tf.floor(corner[:, 0] * (height - tall + 1))
    left = tf.floor(corner[:, 1] * (width - wide + 1))
    rows = tf.range(height, dtype=tf.float32)[None, :, None]  # 1 x H x 1
    cols = tf.range(width, dtype=tf.float32)[None, None, :]  # 1 x 1 x W
    inside = (
        (rows >= top[:, None, None])
        & (rows < (top + tall)[:, None, None])
        & (cols >= left[:, None, None])
        & (cols < (left + wide)[:, None, None])
    )  # N x H x W
    erase = inside & (chosen & tf.reduce_any(fits, axis=1))[:, None, None]
    noise = tf.random.stateless_uniform(tf.shape(images), keys[4], 0.0, max_value, dtype=images.dtype)
    return tf.where(erase[..., None], noise, images)


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
    erasing: float = 0.0,
) -> tf.data.Dataset:
    """One epoch of shuffled, batched, optionally augmented data: a pure function of (seed, epoch).

    Args:
        images: raw uint8 images (N, 28, 28).
        labels: class indices (N,); the dataset yields them one-hot (float32).
        batch_size: images per batch (the last batch may be smaller).
        seed: the run's seed.
        epoch: the epoch number (1-based); order and augmentation depend on it.
        augment: apply :func:`make_augmenter` with ``shift_pixels`` and ``flip``.
        shift_pixels: largest random shift each way, in pixels.
        flip: random left-right flips as part of the augmentation.
        erasing: then erase a random rectangle of each image with this probability
            (:func:`random_erasing`; 0: none).
    """
    order = np.random.default_rng([seed, epoch]).permutation(len(images))
    x = images[order][..., None].astype("float32")  # N x 28 x 28 x 1
    y = keras.utils.to_categorical(labels[order], NUM_CLASSES).astype("float32")  # N x 10
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
    if augment:
        augmenter = make_augmenter(seed * 1000 + epoch, shift_pixels, flip)
        ds = ds.map(lambda a, b: (augmenter(a, training=True), b), num_parallel_calls=1, deterministic=True)
    if erasing:
        ds = ds.enumerate().map(
            lambda i, batch: (
                random_erasing(batch[0], erasing, tf.stack([tf.constant(seed * 1000 + epoch, tf.int64), i])),
                batch[1],
            ),
            num_parallel_calls=1,
            deterministic=True,
        )
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
        recipe: the run's recipe (its learning rate, schedule, warm-up and epochs).
        steps_per_epoch: training steps in one epoch.
    """
    if recipe.schedule == "constant":
        return recipe.learning_rate
    if recipe.warmup_epochs:  # linear from 0 to the learning rate, then the cosine over the rest
        warmup = recipe.warmup_epochs * steps_per_epoch
        return keras.optimizers.schedules.CosineDecay(
            0.0,
            decay_steps=recipe.epochs * steps_per_epoch - warmup,
            warmup_target=recipe.learning_rate,
            warmup_steps=warmup,
        )
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
