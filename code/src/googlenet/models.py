"""Model builders. Chapter 1's plain convolution stacks and classifier heads live here.

All builders are functional Keras models with named layers, so :mod:`googlenet.cost` can read
every layer's shapes and weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

HEADS = ("flatten", "gap")


def _positive_int(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _check_head(head: str) -> None:
    if head not in HEADS:
        raise ValueError(f"head must be one of {HEADS}, got {head!r}")


def plain_conv_stack(
    *,
    depth: int,
    width: int,
    input_shape: tuple[int, int, int] = (224, 224, 3),
    num_classes: int = 1000,
    pool_every: int = 2,
    head: str = "gap",
    hidden_units: Sequence[int] = (),
    rescale: bool = False,
    name: str | None = None,
) -> keras.Model:
    """A plain CNN: ``depth`` 3x3 'same' convolutions of ``width`` channels with ReLU.

    A 2x2 max pool follows every ``pool_every`` convolutions while the map is at least 2x2.
    ``head='flatten'`` flattens the last map into dense layers (``hidden_units``, then the
    classifier), as AlexNet and VGG do; ``head='gap'`` averages it globally first, as
    Network in Network and GoogLeNet do. ``rescale`` maps raw 0-255 pixels to 0-1 inside.
    """
    _positive_int("depth", depth)
    _positive_int("width", width)
    _positive_int("num_classes", num_classes)
    _positive_int("pool_every", pool_every)
    _check_head(head)
    for units in hidden_units:
        _positive_int("hidden_units entry", units)

    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs) if rescale else inputs
    for i in range(1, depth + 1):
        x = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"conv{i}")(x)
        if i % pool_every == 0 and x.shape[1] >= 2 and x.shape[2] >= 2:
            x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = layers.Flatten(name="flatten")(x) if head == "flatten" else layers.GlobalAveragePooling2D(name="gap")(x)
    for j, units in enumerate(hidden_units, start=1):
        x = layers.Dense(units, activation="relu", name=f"fc{j}")(x)
    outputs = layers.Dense(num_classes, name="classifier")(x)
    return keras.Model(inputs, outputs, name=name or f"plain_d{depth}_w{width}_{head}")


def classifier_head(
    feature_shape: tuple[int, int, int],
    num_classes: int,
    head: str,
    hidden_units: Sequence[int] = (),
) -> keras.Model:
    """Just the classifier that sits on a final feature map, to price it on its own."""
    _check_head(head)
    _positive_int("num_classes", num_classes)
    inputs = keras.Input(shape=feature_shape, name="features")
    x = (
        layers.Flatten(name="flatten")(inputs)
        if head == "flatten"
        else layers.GlobalAveragePooling2D(name="gap")(inputs)
    )
    for j, units in enumerate(hidden_units, start=1):
        x = layers.Dense(_positive_int("hidden_units entry", units), activation="relu", name=f"fc{j}")(x)
    outputs = layers.Dense(num_classes, name="classifier")(x)
    return keras.Model(inputs, outputs, name=f"{head}_head")


# --------------------------------------------------------------------------------------------
# The GoogLeNet of Szegedy et al. 2015, Table 1.

# Module name -> (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj), from Table 1.
GOOGLENET_MODULES: dict[str, tuple[int, int, int, int, int, int]] = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}
# A 3x3/2 max pool follows these modules (the stem has two more).
POOL_AFTER = {"3b": "pool3", "4e": "pool4"}
AUX_AFTER = {"4a": "aux1", "4d": "aux2"}
AUX_LOSS_WEIGHT = 0.3


@keras.saving.register_keras_serializable(package="googlenet")
class LocalResponseNormalization(layers.Layer):
    """Cross-channel local response normalisation as in AlexNet and GoogLeNet (no weights).

    Defaults follow the Caffe GoogLeNet definition (local size 5, alpha 1e-4, beta 0.75, k 1);
    Caffe divides alpha by the local size, TensorFlow does not, hence ``alpha / size`` below.
    """

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def call(self, inputs):
        import tensorflow as tf

        return tf.nn.local_response_normalization(
            inputs, depth_radius=self.size // 2, bias=self.k, alpha=self.alpha / self.size, beta=self.beta
        )

    def get_config(self):
        return super().get_config() | {"size": self.size, "alpha": self.alpha, "beta": self.beta, "k": self.k}


def googlenet_min_input_size(aux_heads: bool) -> int:
    """Smallest square input the builder accepts.

    Five stride-2 stages need at least 2 pixels each (32 in all); the auxiliary heads' 5x5
    average pool needs a 5x5 map at 4a, which is the input divided by 16, rounded up (65).
    """
    return 65 if aux_heads else 32


def _aux_head(x, num_classes: int, name: str, batch_norm: bool, dropout: float):
    from .blocks import conv_unit

    x = layers.AveragePooling2D(5, strides=3, padding="valid", name=f"{name}_pool")(x)
    x = conv_unit(x, 128, 1, name=f"{name}_conv", batch_norm=batch_norm)
    x = layers.Flatten(name=f"{name}_flatten")(x)
    x = layers.Dense(1024, activation="relu", name=f"{name}_fc")(x)
    x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return layers.Dense(num_classes, name=f"{name}_logits")(x)


def googlenet(
    input_shape: tuple[int, int, int] = (224, 224, 3),
    num_classes: int = 1000,
    *,
    aux_heads: bool = True,
    batch_norm: bool = False,
    kernel_5x5: int = 5,
    lrn: bool | None = None,
    last_pool: int = 3,
    dropout: float = 0.4,
    aux_dropout: float = 0.7,
    name: str = "googlenet",
) -> keras.Model:
    """GoogLeNet (Inception v1) as in Table 1 of the paper; outputs are logits.

    With ``aux_heads`` the model has three outputs, ``main``, ``aux1`` (on 4a) and ``aux2`` (on
    4d), for training; :func:`inference_model` strips the auxiliary heads while sharing weights.
    ``lrn`` defaults to the paper's local response normalisation unless ``batch_norm`` is on.
    torchvision's variant is ``batch_norm=True, kernel_5x5=3, last_pool=2, aux_heads=False``.
    """
    from .blocks import conv_unit, inception_module

    _positive_int("num_classes", num_classes)
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape!r}")
    minimum = googlenet_min_input_size(aux_heads)
    if min(input_shape[:2]) < minimum:
        raise ValueError(
            f"input {input_shape[0]}x{input_shape[1]} is too small for GoogLeNet"
            f"{' with auxiliary heads' if aux_heads else ''}: the minimum is {minimum}x{minimum} "
            f"(resize the images, e.g. Fashion-MNIST's 28x28 to 96x96)"
        )
    if last_pool not in (2, 3):
        raise ValueError(f"last_pool must be 3 (the paper) or 2 (torchvision), got {last_pool!r}")
    use_lrn = (not batch_norm) if lrn is None else lrn

    inputs = keras.Input(shape=input_shape, name="image")
    x = conv_unit(inputs, 64, 7, strides=2, name="conv1_7x7", batch_norm=batch_norm)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    if use_lrn:
        x = LocalResponseNormalization(name="lrn1")(x)
    x = conv_unit(x, 64, 1, name="conv2_reduce", batch_norm=batch_norm)
    x = conv_unit(x, 192, 3, name="conv2_3x3", batch_norm=batch_norm)
    if use_lrn:
        x = LocalResponseNormalization(name="lrn2")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)

    aux_outputs = []
    for module, (f1, r3, f3, r5, f5, pp) in GOOGLENET_MODULES.items():
        x = inception_module(
            x,
            filters_1x1=f1,
            reduce_3x3=r3,
            filters_3x3=f3,
            reduce_5x5=r5,
            filters_5x5=f5,
            pool_proj=pp,
            name=f"inception_{module}",
            batch_norm=batch_norm,
            kernel_5x5=kernel_5x5,
        )
        if aux_heads and module in AUX_AFTER:
            aux_outputs.append(_aux_head(x, num_classes, AUX_AFTER[module], batch_norm, aux_dropout))
        if module in POOL_AFTER:
            size = last_pool if module == "4e" else 3
            x = layers.MaxPooling2D(size, strides=2, padding="same", name=POOL_AFTER[module])(x)

    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    main = layers.Dense(num_classes, name="main")(x)
    if not aux_outputs:
        return keras.Model(inputs, main, name=name)
    aux1, aux2 = (layers.Identity(name=n)(t) for n, t in zip(("aux1", "aux2"), aux_outputs, strict=True))
    return keras.Model(inputs, {"main": main, "aux1": aux1, "aux2": aux2}, name=name)


def inference_model(model: keras.Model) -> keras.Model:
    """The main head only, sharing every weight with ``model`` (the auxiliary heads dropped)."""
    outputs = model.outputs
    main = model.get_layer("main").output if len(outputs) > 1 else outputs[0]
    return keras.Model(model.input, main, name=f"{model.name}_inference")


def compile_googlenet(model: keras.Model, optimizer=None, aux_weight: float = AUX_LOSS_WEIGHT) -> keras.Model:
    """Compile with the paper's loss: main loss + ``aux_weight`` x each auxiliary loss."""
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    if len(model.outputs) == 1:
        model.compile(optimizer=optimizer or "adam", loss=loss, metrics=["accuracy"])
        return model
    model.compile(
        optimizer=optimizer or "adam",
        loss={"main": loss, "aux1": loss, "aux2": loss},
        loss_weights={"main": 1.0, "aux1": aux_weight, "aux2": aux_weight},
        metrics={"main": ["accuracy"]},
    )
    return model
