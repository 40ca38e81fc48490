"""GoogLeNet (Inception v1) as in Table 1 of Szegedy et al. (2015), and torchvision's variant.

The inception table is data (:data:`GOOGLENET_MODULES`); the builder reads it. Deviations of
torchvision's model from the paper are options of :func:`googlenet`, named where they act.
"""

from __future__ import annotations

import keras
from keras import layers

from ..blocks import conv_unit, inception_from_widths
from ..checks import choice, positive_int
from ..data import INPUT_SHAPE
from .heads import AUX_LOSS_WEIGHT, MAIN, inference_model, paper_aux_head

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

# Published per-row figures of Table 1 (params, ops), for comparison only.
# The paper rounds to thousands of parameters and millions of multiply-adds.
PAPER_TABLE1: dict[str, tuple[int, int]] = {
    "conv1 7x7/2": (2_700, 34_000_000),
    "conv2 1x1 + 3x3": (112_000, 360_000_000),
    "inception 3a": (159_000, 128_000_000),
    "inception 3b": (380_000, 304_000_000),
    "inception 4a": (364_000, 73_000_000),
    "inception 4b": (437_000, 88_000_000),
    "inception 4c": (463_000, 100_000_000),
    "inception 4d": (580_000, 119_000_000),
    "inception 4e": (840_000, 170_000_000),
    "inception 5a": (1_072_000, 54_000_000),
    "inception 5b": (1_388_000, 71_000_000),
    "linear": (1_000_000, 1_000_000),
}


def table1_row(layer_name: str) -> str | None:
    """The Table 1 row a GoogLeNet layer belongs to (auxiliary-head layers map to 'aux1'/'aux2').

    Args:
        layer_name: a layer of :func:`googlenet`.
    """
    for prefix, row in (
        ("conv1_", "conv1 7x7/2"),
        ("conv2_", "conv2 1x1 + 3x3"),
        ("aux1", "aux1"),
        ("aux2", "aux2"),
    ):
        if layer_name.startswith(prefix):
            return row
    if layer_name.startswith("inception_"):
        return "inception " + layer_name.split("_")[1]
    if layer_name == MAIN:
        return "linear"
    return None


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

    Args:
        aux_heads: whether the model has the auxiliary heads.
    """
    return 65 if aux_heads else 32


def check_fashion_size(size: int, aux_heads: bool, fix: str) -> None:
    """Refuse a resize target too small for GoogLeNet, with or without its heads.

    Args:
        size: side of the resized square image.
        aux_heads: whether the model has the auxiliary heads.
        fix: how the caller's user sets a larger size (ends the message); ``{minimum}`` is
            replaced by the minimum.
    """
    minimum = googlenet_min_input_size(aux_heads)
    if size < minimum:
        why = "the heads' 5x5 pool needs a 5x5 map at 4a, the input / 16" if aux_heads else "five stride-2 stages"
        raise ValueError(
            f"size {size} is too small for GoogLeNet{' with auxiliary heads' if aux_heads else ''}: "
            f"the minimum is {minimum} ({why}); {fix.format(minimum=minimum)}"
        )


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

    torchvision's variant is ``batch_norm=True, kernel_5x5=3, last_pool=2, aux_heads=False``
    (and main-head dropout 0.2). Shapes below are for the default 224x224x3 input.

    Args:
        input_shape: (height, width, channels); at least :func:`googlenet_min_input_size`.
        num_classes: outputs of every classifier.
        aux_heads: add the two auxiliary classifiers (on 4a and 4d); the model then returns
            ``{"main", "aux1", "aux2"}`` for training, and
            :func:`~googlenet.models.heads.inference_model` strips them, sharing weights.
        batch_norm: batch-normalised convolutions without biases (torchvision), no LRN.
        kernel_5x5: 5 (the paper) or 3 (torchvision's "5x5" branch).
        lrn: local response normalisation after the stem's pools; defaults to ``not batch_norm``.
        last_pool: size of the max pool after 4e: 3 (the paper) or 2 (torchvision).
        dropout: dropout before the main classifier (the paper: 0.4).
        aux_dropout: dropout inside each auxiliary head (the paper: 0.7).
        name: the model's name.
    """
    positive_int("num_classes", num_classes)
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape!r}")
    minimum = googlenet_min_input_size(aux_heads)
    if min(input_shape[:2]) < minimum:
        raise ValueError(
            f"input {input_shape[0]}x{input_shape[1]} is too small for GoogLeNet"
            f"{' with auxiliary heads' if aux_heads else ''}: the minimum is {minimum}x{minimum} "
            f"(resize the images, e.g. Fashion-MNIST's 28x28 to 96x96)"
        )
    choice("last_pool (3: the paper, 2: torchvision)", last_pool, (3, 2))
    use_lrn = (not batch_norm) if lrn is None else lrn

    inputs = keras.Input(shape=input_shape, name="image")  # 224 x 224 x 3
    body = {"batch_norm": batch_norm, "kernel_5x5": kernel_5x5, "lrn": use_lrn, "last_pool": last_pool}
    return _finish(inputs, inputs, num_classes, aux_heads, dropout, aux_dropout, name, width=1.0, **body)


def googlenet_fashion(
    size: int = 72,
    num_classes: int = 10,
    *,
    aux_heads: bool = True,
    batch_norm: bool = False,
    width: float = 1.0,
    name: str = "googlenet",
) -> keras.Model:
    """The paper's GoogLeNet for Fashion-MNIST: raw 28x28 pixels in, resized inside the model.

    The auxiliary heads' 5x5 average pool needs at least 65x65 inputs, so the model rescales
    the pixels to [0, 1] and resizes them bilinearly to ``size`` x ``size`` before the stem; the
    saved model takes the same raw pixels as every other model of the book. Everything after
    the resize is :func:`googlenet` with one input channel (the paper's LRN when
    ``batch_norm=False``); shapes below are for ``size=72``.

    Args:
        size: side of the resized image; at least :func:`googlenet_min_input_size`.
        num_classes: outputs of every classifier.
        aux_heads: add the two auxiliary classifiers (on 4a and 4d).
        batch_norm: batch-normalised convolutions (torchvision's configuration) instead of LRN.
        width: multiplier of every layer's width (stem, the six widths of every module, the
            heads' convolution and fully connected layer); 1.0 is the paper's. The depth and
            every kernel, stride and pool stay the paper's.
        name: the model's name.
    """
    if not 0 < width <= 4:
        raise ValueError(f"width must be a multiplier in (0, 4], got {width!r}")
    check_fashion_size(size, aux_heads, "pass size >= {minimum}" + (" or aux_heads=False" if aux_heads else ""))
    inputs = keras.Input(shape=INPUT_SHAPE, name="pixels")  # 28 x 28 x 1, pixels 0-255
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    x = layers.Resizing(size, size, interpolation="bilinear", name="resize")(x)  # 72 x 72 x 1
    body = {"batch_norm": batch_norm, "kernel_5x5": 5, "lrn": not batch_norm, "last_pool": 3}
    # Without heads, the heads are still built and then dropped where they fit: every layer then
    # draws its initial weights in the same order, so the same seed gives both arms the same start.
    with_heads = aux_heads or size >= googlenet_min_input_size(True)
    model = _finish(inputs, x, num_classes, with_heads, 0.4, 0.7, name, width=width, **body)
    if aux_heads:
        return model
    return keras.Model(model.input, inference_model(model).output, name=name)


def _finish(
    inputs, x, num_classes, aux_heads, dropout, aux_dropout, name, *, width, batch_norm, kernel_5x5, lrn, last_pool
):
    # The network after its input. Shapes for 224 x 224 x 3 (for 72 x 72: 36 after conv1,
    # 18 after pool1, 9 after pool2, 5 at 3a-4e, 3 at 5a-5b).
    use_lrn = lrn

    def w(filters: int) -> int:  # a layer's width at this width multiplier
        return max(1, round(filters * width))

    x = conv_unit(x, w(64), 7, strides=2, name="conv1_7x7", batch_norm=batch_norm)  # 112 x 112 x 64
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)  # 56 x 56 x 64
    if use_lrn:
        x = LocalResponseNormalization(name="lrn1")(x)
    x = conv_unit(x, w(64), 1, name="conv2_reduce", batch_norm=batch_norm)  # 56 x 56 x 64
    x = conv_unit(x, w(192), 3, name="conv2_3x3", batch_norm=batch_norm)  # 56 x 56 x 192
    if use_lrn:
        x = LocalResponseNormalization(name="lrn2")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)  # 28 x 28 x 192

    # 3a-3b: 28 x 28 x 256, 480; pool3 -> 14 x 14; 4a-4e: 512, 512, 512, 528, 832;
    # pool4 -> 7 x 7; 5a-5b: 832, 1024.
    aux_outputs = []
    for module, widths in GOOGLENET_MODULES.items():
        scaled = tuple(w(f) for f in widths)
        x = inception_from_widths(x, scaled, name=f"inception_{module}", batch_norm=batch_norm, kernel_5x5=kernel_5x5)
        if aux_heads and module in AUX_AFTER:  # on 4a and 4d: 14 x 14 x 512, 528
            head = {"batch_norm": batch_norm, "dropout": aux_dropout, "conv_filters": w(128), "units": w(1024)}
            aux_outputs.append(paper_aux_head(x, num_classes, AUX_AFTER[module], **head))
        if module in POOL_AFTER:
            size = last_pool if module == "4e" else 3  # torchvision's 2x2 pool after 4e
            x = layers.MaxPooling2D(size, strides=2, padding="same", name=POOL_AFTER[module])(x)

    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)  # 1024
    x = layers.Dropout(dropout, name="dropout")(x)
    main = layers.Dense(num_classes, name=MAIN)(x)  # num_classes
    if not aux_outputs:
        return keras.Model(inputs, main, name=name)
    aux1, aux2 = (layers.Identity(name=n)(t) for n, t in zip(("aux1", "aux2"), aux_outputs, strict=True))
    return keras.Model(inputs, {MAIN: main, "aux1": aux1, "aux2": aux2}, name=name)


def compile_googlenet(model: keras.Model, optimizer=None, aux_weight: float = AUX_LOSS_WEIGHT) -> keras.Model:
    """Compile with the paper's loss for Keras's ``fit``: main loss + ``aux_weight`` x each auxiliary loss.

    Args:
        model: a model from :func:`googlenet`, with or without auxiliary heads.
        optimizer: a Keras optimizer (default Adam).
        aux_weight: weight of each auxiliary loss.
    """
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    if len(model.outputs) == 1:
        model.compile(optimizer=optimizer or "adam", loss=loss, metrics=["accuracy"])
        return model
    model.compile(
        optimizer=optimizer or "adam",
        loss={MAIN: loss, "aux1": loss, "aux2": loss},
        loss_weights={MAIN: 1.0, "aux1": aux_weight, "aux2": aux_weight},
        metrics={MAIN: ["accuracy"]},
    )
    return model
