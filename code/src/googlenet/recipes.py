"""Recipes as data: everything that determines a training run, in one registry.

A :class:`Recipe` names the model builder and its arguments, the optimiser and its schedule,
the augmentation, the auxiliary-loss weight, the budget (epochs, batch), the seed and the
training data. The command line, the ablation study, the benchmark and the chapters all read
:data:`RECIPES`; a variant is ``dataclasses.replace(IMPROVED, ...)``, never a re-typed copy.

Units: ``learning_rate`` is Adam's step size at the start of the run; ``schedule`` is
``"constant"`` (the study note) or ``"cosine"`` (decays to 0 at the last step of ``epochs``);
``shift_pixels`` is the largest random shift in pixels each way; ``batch_size`` is images per
step; ``train_per_class`` draws that many training images of each class (``None``: all 60,000);
``erasing`` is the probability that a training image gets a random rectangle erased;
``warmup_epochs`` is the number of epochs over which the learning rate first rises linearly
from 0 (the cosine decay then runs over the remaining epochs).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import keras

from .checks import choice, fraction, integer, positive_int
from .data import INPUT_SHAPE
from .models import improved, note, paper, vgg
from .models.heads import AUX_LOSS_WEIGHT
from .precision import DEFAULT_PRECISION, check_precision, float32_outputs, using_precision

SCHEDULES = ("constant", "cosine")
MAX_SEED = 2**32 - 1
"""NumPy's and Keras's global seeds are 32-bit."""


@dataclass(frozen=True)
class Recipe:
    """One way to train one model (see the module's docstring for units).

    Attributes:
        name: the registry's key and the command line's ``--config``.
        builder: the function that builds the model (from :mod:`googlenet.models`).
        model_args: the builder's keyword arguments (read-only once the recipe exists).
        description: one line on what the recipe is, or what it changes.
        epochs: training epochs (a cosine schedule decays over exactly these).
        batch_size: images per step.
        seed: seed of initial weights, data order, augmentation and dropout.
        optimizer: the optimiser's name (``"adam"``).
        learning_rate: the optimiser's step size at the start of the run.
        schedule: ``"constant"`` or ``"cosine"``.
        augment: apply random shifts (and flips) to every training batch.
        shift_pixels: largest random shift each way, in pixels.
        flip: random left-right flips as part of the augmentation.
        aux_weight: weight of each auxiliary head's loss (models with auxiliary heads only).
        train_per_class: train on a stratified subset of this many images per class (``None``: all).
        validation_per_class: hold out this many training images of every class (the book's
            choice is :data:`googlenet.data.VALIDATION_PER_CLASS`, 5,000 in all) and score them
            every epoch; settings are chosen on them, never on the test set. ``None``: none.
        gradient_probe: record, at initialisation and after every epoch, the loss's gradient
            norm at each stage (:mod:`googlenet.gradients`) on the first this-many training
            images (0: none; GoogLeNet's stages only).
        label_smoothing: Inception-v3's label smoothing of the training targets (0: none; the
            paper used 0.1).
        ema_decay: score and save an exponential moving average of the weights with this decay
            per step (:mod:`googlenet.averaging`; 0: the weights themselves).
        precision: ``"float32"`` or ``"mixed_bfloat16"`` (:mod:`googlenet.precision`: bfloat16
            arithmetic, float32 weights and logits).
        erasing: probability that a training image has a random rectangle erased (Zhong et al.'s
            random erasing, :func:`googlenet.training.random_erasing`; 0: none, the paper's 0.5).
        warmup_epochs: epochs of linear warm-up from a learning rate of 0 before the cosine
            decay (0: none; the cosine schedule only).
    """

    name: str
    builder: Callable[..., keras.Model]
    model_args: Mapping[str, object] = field(default_factory=dict)
    description: str = ""
    epochs: int = 15
    batch_size: int = 128
    seed: int = 0
    optimizer: str = "adam"
    learning_rate: float = 2e-3
    schedule: str = "cosine"
    augment: bool = True
    shift_pixels: int = 2
    flip: bool = True
    aux_weight: float = AUX_LOSS_WEIGHT
    train_per_class: int | None = None
    validation_per_class: int | None = None
    gradient_probe: int = 0
    label_smoothing: float = 0.0
    ema_decay: float = 0.0
    precision: str = DEFAULT_PRECISION
    erasing: float = 0.0
    warmup_epochs: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "model_args", MappingProxyType(dict(self.model_args)))  # no shared mutation
        positive_int("epochs", self.epochs)
        positive_int("batch_size", self.batch_size)
        integer("seed", self.seed, minimum=0, maximum=MAX_SEED)
        choice("schedule", self.schedule, SCHEDULES)
        choice("optimizer", self.optimizer, ("adam",))
        integer("shift_pixels", self.shift_pixels, minimum=0, maximum=INPUT_SHAPE[0] // 2 - 1)
        if self.train_per_class is not None:
            positive_int("train_per_class", self.train_per_class)
        if self.validation_per_class is not None:
            positive_int("validation_per_class", self.validation_per_class)
        integer("gradient_probe", self.gradient_probe, minimum=0, maximum=1024)
        fraction("label_smoothing", self.label_smoothing)
        fraction("ema_decay", self.ema_decay)
        check_precision(self.precision)
        fraction("erasing", self.erasing)
        integer("warmup_epochs", self.warmup_epochs, minimum=0, maximum=self.epochs - 1)
        if self.warmup_epochs and self.schedule != "cosine":
            raise ValueError(
                f"recipe {self.name!r}: warmup_epochs={self.warmup_epochs} needs the cosine schedule, "
                f"not {self.schedule!r}; set warmup_epochs=0 or schedule='cosine'"
            )
        if self.gradient_probe and self.builder is not paper.googlenet_fashion:
            raise ValueError(
                f"recipe {self.name!r}: gradient_probe measures GoogLeNet's stages (conv1, conv2, 3a ... 5b), "
                f"which only models.paper.googlenet_fashion has; set gradient_probe=0 for {self.builder.__name__}"
            )
        unknown = set(self.model_args) - set(inspect.signature(self.builder).parameters)
        if unknown:
            raise ValueError(f"recipe {self.name!r}: {self.builder.__name__} takes no argument {sorted(unknown)}")
        if self.builder is paper.googlenet_fashion:  # refused here, before any data is read or weight drawn
            args = self.full_model_args()
            try:
                paper.check_fashion_size(args["size"], bool(args["aux_heads"]), "set model_args size >= {minimum}")
            except ValueError as error:
                raise ValueError(f"recipe {self.name!r}: {error}") from None

    def build(self) -> keras.Model:
        """The recipe's model, freshly initialised (seed Keras first for a reproducible one).

        Under ``mixed_bfloat16`` the layers compute in bfloat16 and the outputs are cast to float32.
        """
        if self.precision == DEFAULT_PRECISION:
            return self.builder(**self.model_args)
        with using_precision(self.precision):
            model = self.builder(**self.model_args)
        return float32_outputs(model)

    def full_model_args(self) -> dict:
        """The builder's arguments with its defaults filled in: what the model really is."""
        defaults = {
            name: p.default
            for name, p in inspect.signature(self.builder).parameters.items()
            if p.default is not inspect.Parameter.empty
        }
        return defaults | dict(self.model_args)

    def record(self) -> dict:
        """A JSON-ready description, stored in a run's ``state.json`` and ``metadata.json``."""
        return (
            {
                "config": self.name,
                "builder": f"{self.builder.__module__}.{self.builder.__qualname__}",
                "model_args": self.full_model_args(),  # the builder's defaults included: what the model really is
                "epochs": self.epochs,
                "batch_size": self.batch_size,
                "seed": self.seed,
                "optimizer": self.optimizer,
                "learning_rate": self.learning_rate,
                "schedule": self.schedule,
                "augment": self.augment,
                "shift_pixels": self.shift_pixels,
                "flip": self.flip,
                "aux_weight": self.aux_weight,
                "train_per_class": self.train_per_class,
                "validation_per_class": self.validation_per_class,
            }
            | {  # settings added later are recorded only when set, so older runs' records stay valid
                key: getattr(self, key)
                for key in ("gradient_probe", "label_smoothing", "ema_decay", "erasing", "warmup_epochs")
                if getattr(self, key)
            }
            | ({"precision": self.precision} if self.precision != DEFAULT_PRECISION else {})
        )


WRITEUP = Recipe(
    "writeup",
    note.writeup_net,
    {"filters": 16, "num_blocks": 5},
    description="the study note: 5 blocks of 16 filters at 28x28, Adam at its default rate, augmentation",
    epochs=100,
    learning_rate=1e-3,
    schedule="constant",
)
IMPROVED = Recipe(
    "improved",
    improved.improved_net,
    {"num_modules": 5, "width": 1.0, "dropout": 0.2, "stem_filters": 32, "bn_momentum": 0.9},
    description="the book's build: BN stem that halves to 14x14, GoogLeNet-shaped widths, cosine decay",
)
# The ablations (chapter 9): the improved recipe with one thing changed each.
WIDE = replace(IMPROVED, name="wide", model_args=IMPROVED.model_args | {"width": 2.0}, description="every branch x2")
DEEP = replace(
    IMPROVED,
    name="deep",
    model_args=IMPROVED.model_args | {"num_modules": 9},
    description="GoogLeNet's 9 modules",
)
DEEP_AUX = replace(
    IMPROVED,
    name="deep_aux",
    model_args=DEEP.model_args | {"aux_heads": True},
    description="9 modules and two auxiliary heads (loss weight 0.3)",
)
NO_AUGMENT = replace(IMPROVED, name="no_augment", augment=False, description="no random shifts or flips")
VGG = replace(
    IMPROVED,
    name="vgg",
    builder=vgg.vgg_net,
    model_args={"base_width": vgg.DEFAULT_BASE_WIDTH, "dropout": 0.2, "bn_momentum": 0.9},
    description="stacked 3x3 convolutions with about the improved build's multiply-adds",
)

# The recipe's own pieces, each removed from the improved build (chapter 9's second study; the
# runs made so far are listed in googlenet.ablation.VALIDATION_STUDY).
AUX_PAPER = replace(
    DEEP_AUX,
    name="aux_paper",
    model_args=DEEP_AUX.model_args | {"aux_style": "paper"},
    description="9 modules and the paper's auxiliary heads (5x5/3 pool, 1x1 conv, FC, 70% dropout), scaled by 4",
)
NO_BN = replace(
    IMPROVED, name="no_bn", model_args=IMPROVED.model_args | {"batch_norm": False}, description="no batch normalisation"
)
FULL_RES = replace(
    IMPROVED,
    name="full_res",
    model_args=IMPROVED.model_args | {"stem_stride": 1, "module_pools": False},
    description="no stride-2 stem and no pools between modules: every module at 28x28, as in the note",
)
CONSTANT_LR = replace(IMPROVED, name="constant_lr", schedule="constant", description="constant learning rate")
EQUAL_WIDTH_FILTERS = 20
"""Filters per branch that give equal widths about the improved build's multiply-adds (-3%; 21 gives +4%)."""
EQUAL_WIDTHS = replace(
    IMPROVED,
    name="equal_widths",
    model_args=IMPROVED.model_args | {"widths": ((EQUAL_WIDTH_FILTERS,) * 6,) * 5},
    description="the note's equal widths in every branch instead of GoogLeNet's proportions, same multiply-adds",
)
VGG_SHAPED_BASE_WIDTH = 15
"""Base width of the VGG-shaped baseline nearest the improved build's multiply-adds (-5%; 16 gives +8%)."""
VGG_SHAPED = replace(
    VGG,
    name="vgg_shaped",
    model_args=VGG.model_args | {"base_width": VGG_SHAPED_BASE_WIDTH, "stages": 4, "convs_per_stage": 3},
    description="VGG-shaped: 4 stages of 3 convolutions (12 deep), width doubling at each pool",
)

# The modules that followed GoogLeNet, inside the improved build (chapter 10).
FACTORISED = replace(
    IMPROVED,
    name="factorised",
    model_args=IMPROVED.model_args | {"module_style": "factorised"},
    description="Inception-v3's module: every 5x5 as two stacked 3x3 convolutions",
)
SEPARABLE = replace(
    IMPROVED,
    name="separable",
    model_args=IMPROVED.model_args | {"module_style": "separable"},
    description="Xception's convolutions: the modules' 3x3 and 5x5 as depthwise separable convolutions",
)
# The papers' training tricks on the improved build (chapter 10).
LABEL_SMOOTHING = replace(
    IMPROVED,
    name="label_smoothing",
    label_smoothing=0.1,
    description="Inception-v3's label smoothing with the paper's epsilon, 0.1",
)
EMA = replace(
    IMPROVED,
    name="ema",
    ema_decay=0.999,
    description="scored and saved with a moving average of the weights (decay 0.999 per step, about 2 epochs)",
)
# What the small-net records on Fashion-MNIST add (chapter 10): random erasing at Zhong et al.'s
# settings, a learning-rate warm-up, and width where it is cheap (the largest round multiplier
# within the best build's 300k parameters that chapter 9's twice-as-wide arm exceeds).
ERASING = replace(
    IMPROVED,
    name="erasing",
    erasing=0.5,
    description="random erasing (p 0.5, 2-40% of the image, aspect 0.3-3.3, noise) after the shifts and flips",
)
WARMUP_EPOCHS = 1
"""Epochs of linear warm-up in the ``warmup`` recipe (then cosine decay over the other 14)."""
WARMUP = replace(
    IMPROVED,
    name="warmup",
    warmup_epochs=WARMUP_EPOCHS,
    description=f"the learning rate rises linearly from 0 over {WARMUP_EPOCHS} epoch, then decays by cosine",
)
MID_WIDTH = 1.4
"""Width multiplier of the ``mid_wide`` recipe: 264,957 parameters, inside the best build's 300k."""
MID_WIDE = replace(
    IMPROVED,
    name="mid_wide",
    model_args=IMPROVED.model_args | {"width": MID_WIDTH},
    description=f"every branch and the stem's second conv x{MID_WIDTH}",
)
# The fastest way to the note's 91.24% (chapter 10's wall-clock goal, at most 3 minutes from a cold
# start): the improved build without augmentation, whose 15-epoch run passed 91.24% at epoch 4; a
# shorter cosine schedule, its length chosen on the validation images.
FAST_EPOCHS = 3
FAST = replace(
    NO_AUGMENT,
    name="fast",
    epochs=FAST_EPOCHS,
    description=f"the improved build without augmentation for {FAST_EPOCHS} epochs: the quickest to 91.24%",
)
# The auxiliary heads' claim, where it applies (chapter 6): the paper's GoogLeNet, at half its
# widths, on Fashion-MNIST resized inside the model to 72x72 (the heads need at least 65x65),
# with and without the two heads (weight 0.3) and with and without batch normalisation. The
# builder gives both head arms the same initial weights for a seed. The gradient reaching every
# stage is probed at initialisation and after every epoch on the first 256 training images.
HEADS_SIZE = 72
"""Side, in pixels, to which the heads' experiment resizes Fashion-MNIST's 28x28 images."""
HEADS_WIDTH = 0.5
"""Width multiplier of the heads' experiment: every layer of the paper's GoogLeNet at half width."""
HEADS_EPOCHS = 5
"""Epochs of the heads' experiment: what 12 runs cost on a 2-core CPU in a few hours."""
HEADS_PROBE_IMAGES = 256
HEADS_LEARNING_RATE = 2e-3
"""Adam's starting rate for the experiment's four arms (cosine decay); see chapter 6 for its choice."""


def _heads_recipe(name: str, aux_heads: bool, batch_norm: bool) -> Recipe:
    heads = "with the two auxiliary heads (0.3)" if aux_heads else "without auxiliary heads"
    return replace(
        IMPROVED,
        name=name,
        builder=paper.googlenet_fashion,
        model_args={"size": HEADS_SIZE, "width": HEADS_WIDTH, "aux_heads": aux_heads, "batch_norm": batch_norm},
        description=f"the paper's GoogLeNet at half width on {HEADS_SIZE}x{HEADS_SIZE}, "
        + ("batch-normalised, " if batch_norm else "LRN and no batch normalisation (2014), ")
        + heads,
        epochs=HEADS_EPOCHS,
        learning_rate=HEADS_LEARNING_RATE,
        gradient_probe=HEADS_PROBE_IMAGES,
    )


HEADS = _heads_recipe("heads", aux_heads=True, batch_norm=False)
NO_HEADS = _heads_recipe("no_heads", aux_heads=False, batch_norm=False)
BN_HEADS = _heads_recipe("bn_heads", aux_heads=True, batch_norm=True)
BN_NO_HEADS = _heads_recipe("bn_no_heads", aux_heads=False, batch_norm=True)
# The same build with bfloat16 arithmetic (the appendix's paired accuracy test; float32 weights).
BF16 = replace(IMPROVED, name="bf16", precision="mixed_bfloat16", description="the improved build in mixed bfloat16")

RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        WRITEUP,
        IMPROVED,
        WIDE,
        DEEP,
        DEEP_AUX,
        NO_AUGMENT,
        VGG,
        AUX_PAPER,
        NO_BN,
        FULL_RES,
        CONSTANT_LR,
        EQUAL_WIDTHS,
        VGG_SHAPED,
        FACTORISED,
        SEPARABLE,
        LABEL_SMOOTHING,
        EMA,
        ERASING,
        WARMUP,
        MID_WIDE,
        FAST,
        BF16,
        HEADS,
        NO_HEADS,
        BN_HEADS,
        BN_NO_HEADS,
    )
}


def get(name: str) -> Recipe:
    """The registered recipe called ``name``; an unknown name is an error listing the known ones.

    Args:
        name: a key of :data:`RECIPES` (``"improved"``, ``"writeup"``, ...).
    """
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}: choose one of {', '.join(sorted(RECIPES))}")
    return RECIPES[name]
