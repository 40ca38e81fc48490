"""Training loops. A GradientTape step for multi-output GoogLeNet records every loss per step."""

from __future__ import annotations

from collections.abc import Mapping

import keras
import numpy as np
import tensorflow as tf

from .models import AUX_LOSS_WEIGHT


def weighted_loss(losses: Mapping[str, tf.Tensor], aux_weight: float = AUX_LOSS_WEIGHT) -> tf.Tensor:
    """The paper's total: main loss plus ``aux_weight`` times each auxiliary loss."""
    total = losses["main"]
    for name, value in losses.items():
        if name != "main":
            total = total + aux_weight * value
    return total


def make_multi_output_step(
    model: keras.Model, optimizer: keras.optimizers.Optimizer, aux_weight: float = AUX_LOSS_WEIGHT
):
    """A compiled training step returning each head's loss and the weighted total for one batch."""
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function(jit_compile=False, reduce_retracing=True)
    def step(images: tf.Tensor, labels: tf.Tensor) -> dict[str, tf.Tensor]:
        with tf.GradientTape() as tape:
            outputs = model(images, training=True)
            if not isinstance(outputs, Mapping):
                outputs = {"main": outputs}
            losses = {name: loss_fn(labels, logits) for name, logits in outputs.items()}
            total = weighted_loss(losses, aux_weight)
        grads = tape.gradient(total, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return losses | {"total": total}

    return step


def run_steps(
    step, images: np.ndarray, labels: np.ndarray, steps: int, batch_size: int, seed: int = 0
) -> dict[str, list[float]]:
    """Run ``steps`` training steps on shuffled mini-batches; return every loss per step."""
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be positive, got {steps} and {batch_size}")
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
