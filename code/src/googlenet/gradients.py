"""How much of the loss's gradient reaches each stage of a network (the auxiliary heads' claim).

GoogLeNet's auxiliary classifiers were added so that a 22-layer network trained without batch
normalisation would get "additional gradient signal" in its lower stages. This module measures
that signal: the L2 norm of the gradient of the loss with respect to each stage's trainable
weights, for the main loss alone or with the auxiliary losses added at their weight.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf

from .models.heads import AUX_LOSS_WEIGHT, MAIN, as_heads, has_auxiliary_heads
from .models.paper import GOOGLENET_MODULES

_INCEPTION = re.compile(r"inception_(\d[a-z])(_|$)")
GOOGLENET_STAGES: tuple[str, ...] = ("conv1", "conv2", *GOOGLENET_MODULES, "classifier")
"""The main path's stages from the input up, in the names :func:`googlenet_stage` gives (no heads)."""


def googlenet_stage(layer_name: str) -> str | None:
    """The stage of the paper's GoogLeNet a layer belongs to, from its name (``None``: no stage).

    ``conv1_7x7`` is ``"conv1"``; ``conv2_reduce`` and ``conv2_3x3`` are ``"conv2"``; every layer
    of module 4a is ``"4a"``; the auxiliary heads are ``"aux1"`` and ``"aux2"``; the main
    classifier is ``"classifier"``.

    Args:
        layer_name: a layer's name in a model from :mod:`googlenet.models.paper`.
    """
    if layer_name.startswith(("conv1_", "conv2_")):
        return layer_name[:5]
    match = _INCEPTION.match(layer_name)
    if match:
        return match.group(1)
    if layer_name.startswith(("aux1_", "aux2_")):
        return layer_name[:4]
    return "classifier" if layer_name == MAIN else None


def stage_variables(model: keras.Model, stage_of: Callable[[str], str | None] = googlenet_stage) -> dict[str, list]:
    """Each stage's trainable variables, stages in the order their first layer appears.

    Args:
        model: a built Keras model.
        stage_of: maps a layer's name to its stage, or ``None`` to leave the layer out.
    """
    stages: dict[str, list] = {}
    for layer in model.layers:
        stage = stage_of(layer.name)
        if stage is not None and layer.trainable_weights:
            stages.setdefault(stage, []).extend(layer.trainable_weights)
    if not stages:
        raise ValueError(
            f"no layer of {model.name!r} belongs to a stage with trainable weights: pass stage_of= for its "
            f"layer names, or build the model with googlenet.models.paper"
        )
    return stages


def stage_gradient_norms(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    aux_weight: float = 0.0,
    stages: Mapping[str, Sequence] | None = None,
    training: bool = False,
) -> dict[str, float]:
    """L2 norm of the loss's gradient with respect to each stage's weights, on one batch.

    The loss is the mean cross-entropy of the main head plus ``aux_weight`` times each auxiliary
    head's (``aux_weight=0``: the main loss alone, which is what reaches the lower stages through
    the network itself; 0.3: what the paper trained with).

    Args:
        model: a model returning logits, or a dict of logits with a ``"main"`` head.
        images: a batch of inputs the model accepts.
        labels: their class indices.
        aux_weight: weight of every auxiliary head's loss (0 or more).
        stages: stage name -> variables (default :func:`stage_variables` of ``model``).
        training: run the model in training mode: dropout on, batch normalisation on batch
            statistics, and, in Keras 3, its moving statistics updated by the call. The default
            (inference mode) leaves the model as it was.
    """
    if aux_weight < 0:
        raise ValueError(f"aux_weight must be 0 or more (the paper: {AUX_LOSS_WEIGHT}), got {aux_weight}")
    if len(images) != len(labels) or len(labels) == 0:
        raise ValueError(f"need a non-empty batch with one label per image, got {len(images)} and {len(labels)}")
    stages = stage_variables(model) if stages is None else stages
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        heads = as_heads(model(images, training=training))
        loss = loss_fn(labels, heads[MAIN])
        for name, logits in heads.items():
            if name != MAIN:
                loss = loss + aux_weight * loss_fn(labels, logits)
    names = list(stages)
    grads = tape.gradient(loss, [v for name in names for v in stages[name]])
    norms, start = {}, 0
    for name in names:
        count = len(stages[name])
        squares = [tf.reduce_sum(tf.square(g)) for g in grads[start : start + count] if g is not None]
        norms[name] = float(tf.sqrt(tf.add_n(squares))) if squares else 0.0
        start += count
    return norms


def probe(model: keras.Model, images: np.ndarray, labels: np.ndarray, aux_weight: float = AUX_LOSS_WEIGHT) -> dict:
    """What a run records at a checkpoint: stage norms of the main loss, and with the heads' losses.

    In inference mode (no dropout, batch normalisation on its running statistics), so that the
    probe neither depends on random masks nor changes the model it measures.

    Args:
        model: the model being trained.
        images: the probe's fixed images.
        labels: their classes.
        aux_weight: the recipe's weight of each auxiliary loss.
    """
    row = {"main": stage_gradient_norms(model, images, labels, 0.0, training=False)}
    if has_auxiliary_heads(model):
        row["with_heads"] = stage_gradient_norms(model, images, labels, aux_weight, training=False)
    return row


def stage_sizes(model: keras.Model, stage_of: Callable[[str], str | None] = googlenet_stage) -> dict[str, int]:
    """How many trainable weights each stage holds, stages in :func:`stage_variables`'s order.

    Args:
        model: a built Keras model.
        stage_of: maps a layer's name to its stage, or ``None`` to leave the layer out.
    """
    return {
        stage: sum(int(np.prod(v.shape)) for v in found) for stage, found in stage_variables(model, stage_of).items()
    }


def per_weight(norms: Mapping[str, float], sizes: Mapping[str, int]) -> dict[str, float]:
    """Each stage's gradient as a root mean square per weight: its norm over the root of its size.

    A stage's norm grows with the number of weights it holds (the 7x7 stem has far fewer than a
    module), so stages are compared per weight: ``norm / sqrt(size)``.

    Args:
        norms: stage -> L2 norm of the gradient (a row of :func:`stage_gradient_norms`).
        sizes: stage -> trainable weights (:func:`stage_sizes` of the same model).
    """
    unknown = set(norms) - set(sizes)
    if unknown:
        raise ValueError(f"no size for stages {sorted(unknown)}: pass stage_sizes() of the model the norms are from")
    empty = [stage for stage in norms if sizes[stage] <= 0]
    if empty:
        raise ValueError(f"stages {empty} hold no weights: their gradient per weight is undefined")
    return {stage: float(norm) / float(np.sqrt(sizes[stage])) for stage, norm in norms.items()}


def relative_per_weight(
    norms: Mapping[str, float], sizes: Mapping[str, int], top: str = "classifier"
) -> dict[str, float]:
    """Each stage's gradient per weight as a fraction of the ``top`` stage's (the main classifier's).

    The profile chapter 6 draws: 1 at the classifier, below 1 where a stage gets less per weight.

    Args:
        norms: stage -> L2 norm of the gradient (a row of :func:`stage_gradient_norms`).
        sizes: stage -> trainable weights (:func:`stage_sizes` of the same model).
        top: the stage every other is compared with.
    """
    if top not in norms:
        raise ValueError(f"the gradient log has no stage {top!r}; it has {sorted(norms)}")
    rms = per_weight(norms, sizes)
    if rms[top] == 0:
        raise ValueError(f"the gradient at {top!r} is zero: the ratios are undefined")
    return {stage: value / rms[top] for stage, value in rms.items()}
