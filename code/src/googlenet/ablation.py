"""The book's controlled studies: which shipped runs they compare, and how they judge them.

Every run is a named configuration of the command line trained for its study's epoch budget on
the same pipeline, and says which folder under ``results/`` holds it and what it changes
relative to the improved build. :data:`VALIDATION_STUDY` is the study chapter 9 reports (5,000
training images held out, the budget :data:`STUDY_EPOCHS` chosen on them from
:data:`BUDGET_RUNS`); :data:`ABLATIONS` is the book's first, 4-epoch study, kept for comparison.
:data:`CLAIMS` lists what is judged, and :func:`judge` judges a claim with the paired tests of
:mod:`googlenet.stats` over every seed of its two recipes; :func:`bonferroni_judgements` judges
the decided ones again when many claims are judged at once. Chapter 6's test of the auxiliary
heads is a study of the same kind: :data:`HEADS_PLANNED` (its four arms and three seeds),
:data:`HEADS_STUDY` (the runs made) and :data:`HEADS_CLAIMS`.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from . import recipes, stats
from .data import VALIDATION_PER_CLASS
from .runs import load_run

# Every run of the study trains for this many epochs (see chapter 9 for why).
EPOCHS = 4


@dataclass(frozen=True)
class Ablation:
    """One run of the study: its folder under ``results/``, recipe name, seed and meaning."""

    run: str
    config: str
    seed: int
    label: str
    change: str
    epochs: int = EPOCHS
    validation: bool = False  # 5,000 training images held out (``--validation``)

    def recipe(self) -> recipes.Recipe:
        """The registered recipe with this run's budget, seed and data split."""
        held_out = VALIDATION_PER_CLASS if self.validation else None
        return replace(recipes.get(self.config), epochs=self.epochs, seed=self.seed, validation_per_class=held_out)

    def command(self) -> str:
        """The command line that (re)makes this run from the repository root."""
        return (
            f"python -m googlenet train --config {self.config} --epochs {self.epochs} --seed {self.seed} "
            + ("--validation " if self.validation else "")
            + f"--out results/{self.run}"
        )


ABLATIONS: tuple[Ablation, ...] = (
    Ablation("improved_4ep", "improved", 0, "improved, seed 0", "the book's build (baseline)"),
    Ablation("improved_4ep_seed1", "improved", 1, "improved, seed 1", "baseline, another seed"),
    Ablation("improved_4ep_seed2", "improved", 2, "improved, seed 2", "baseline, another seed"),
    Ablation("wide_4ep", "wide", 0, "filters x2", "every branch and the stem's second conv twice as wide"),
    Ablation("deep_4ep", "deep", 0, "9 modules", "GoogLeNet's nine modules, extra max pool after the 7th"),
    Ablation("deep_aux_4ep", "deep_aux", 0, "9 modules + aux heads", "nine modules, two auxiliary heads (0.3)"),
    Ablation("no_augment_4ep", "no_augment", 0, "no augmentation", "no random shifts or flips"),
    Ablation("vgg_4ep", "vgg", 0, "VGG-style", "stacked 3x3 convolutions of about the same multiply-adds"),
)

BASELINE_CONFIG = "improved"

# Issue 22's design, with 5,000 validation images held out. First the budget: the improved build
# under cosine schedules of several lengths, seed 0; the budget is chosen on validation accuracy.
BUDGET_RUNS: tuple[Ablation, ...] = tuple(
    Ablation(f"improved_val_{e}ep", "improved", 0, f"improved, {e} epochs", f"cosine schedule over {e} epochs", e, True)
    for e in (15, 10, 6, 4)
)
BUDGET_TOLERANCE = 0.003
"""The budget rule's tolerance (a fraction: 0.3 points), fixed before the budget runs were made."""
STUDY_EPOCHS = 15
"""The budget :func:`choose_budget` picks from :data:`BUDGET_RUNS` (10 epochs lose 0.36 points of validation)."""


def _study(run: str, config: str, seed: int, label: str, change: str) -> Ablation:
    return Ablation(run, config, seed, label, change, STUDY_EPOCHS, True)


# The study at that budget, with validation: the runs made so far (the arms still to make are the
# claims' recipes that :func:`missing_recipes` names).
VALIDATION_STUDY: tuple[Ablation, ...] = (
    _study("improved_val_15ep", "improved", 0, "improved, seed 0", "the book's build (baseline)"),
    _study("improved_val_15ep_seed1", "improved", 1, "improved, seed 1", "baseline, another seed"),
    _study("improved_val_15ep_seed2", "improved", 2, "improved, seed 2", "baseline, another seed"),
    _study("no_bn_val_15ep", "no_bn", 0, "no batch norm", "convolution + bias + ReLU, no batch normalisation"),
    _study("no_bn_val_15ep_seed1", "no_bn", 1, "no batch norm, seed 1", "no batch norm, another seed"),
    _study("no_bn_val_15ep_seed2", "no_bn", 2, "no batch norm, seed 2", "no batch norm, another seed"),
    _study("constant_lr_val_15ep", "constant_lr", 0, "constant learning rate", "Adam at 0.002 throughout, no decay"),
    _study(
        "constant_lr_val_15ep_seed1", "constant_lr", 1, "constant learning rate, seed 1", "constant rate, another seed"
    ),
    _study(
        "constant_lr_val_15ep_seed2", "constant_lr", 2, "constant learning rate, seed 2", "constant rate, another seed"
    ),
    _study("equal_widths_val_15ep", "equal_widths", 0, "equal widths", "20 filters in every branch, same cost"),
    _study("equal_widths_val_15ep_seed1", "equal_widths", 1, "equal widths, seed 1", "equal widths, another seed"),
    _study("equal_widths_val_15ep_seed2", "equal_widths", 2, "equal widths, seed 2", "equal widths, another seed"),
    _study("vgg_shaped_val_15ep", "vgg_shaped", 0, "VGG-shaped", "4 stages of three 3x3 convs, width doubling"),
    _study("vgg_shaped_val_15ep_seed1", "vgg_shaped", 1, "VGG-shaped, seed 1", "VGG-shaped, another seed"),
    _study("vgg_shaped_val_15ep_seed2", "vgg_shaped", 2, "VGG-shaped, seed 2", "VGG-shaped, another seed"),
    _study("no_augment_val_15ep", "no_augment", 0, "no augmentation", "no random shifts or flips"),
    _study("no_augment_val_15ep_seed1", "no_augment", 1, "no augmentation, seed 1", "no augmentation, another seed"),
    _study("no_augment_val_15ep_seed2", "no_augment", 2, "no augmentation, seed 2", "no augmentation, another seed"),
    _study("aux_paper_val_15ep", "aux_paper", 0, "9 modules + paper's heads", "the paper's heads, scaled (0.3)"),
    _study(
        "aux_paper_val_15ep_seed1",
        "aux_paper",
        1,
        "9 modules + paper's heads, seed 1",
        "9 modules + paper's heads, another seed",
    ),
    _study(
        "aux_paper_val_15ep_seed2",
        "aux_paper",
        2,
        "9 modules + paper's heads, seed 2",
        "9 modules + paper's heads, another seed",
    ),
    _study("deep_aux_val_15ep", "deep_aux", 0, "9 modules + light heads", "global-pool auxiliary heads (0.3)"),
    _study(
        "deep_aux_val_15ep_seed1",
        "deep_aux",
        1,
        "9 modules + light heads, seed 1",
        "9 modules + light heads, another seed",
    ),
    _study(
        "deep_aux_val_15ep_seed2",
        "deep_aux",
        2,
        "9 modules + light heads, seed 2",
        "9 modules + light heads, another seed",
    ),
    _study("deep_val_15ep", "deep", 0, "9 modules", "GoogLeNet's nine modules, an extra pool after the 7th"),
    _study("deep_val_15ep_seed1", "deep", 1, "9 modules, seed 1", "9 modules, another seed"),
    _study("deep_val_15ep_seed2", "deep", 2, "9 modules, seed 2", "9 modules, another seed"),
    _study("vgg_val_15ep", "vgg", 0, "small VGG-style", "3 stages of two 3x3 convs, about the same cost"),
    _study("vgg_val_15ep_seed1", "vgg", 1, "small VGG-style, seed 1", "small VGG-style, another seed"),
    _study("vgg_val_15ep_seed2", "vgg", 2, "small VGG-style, seed 2", "small VGG-style, another seed"),
    _study("wide_val_15ep", "wide", 0, "filters x2", "every branch and the stem's second conv twice as wide"),
    _study("wide_val_15ep_seed1", "wide", 1, "filters x2, seed 1", "filters x2, another seed"),
    _study("wide_val_15ep_seed2", "wide", 2, "filters x2, seed 2", "filters x2, another seed"),
    _study("full_res_val_15ep", "full_res", 0, "no stride-2 stem", "stride-1 stem, no pools: every module at 28x28"),
    _study("full_res_val_15ep_seed1", "full_res", 1, "no stride-2 stem, seed 1", "no stride-2 stem, another seed"),
    _study("full_res_val_15ep_seed2", "full_res", 2, "no stride-2 stem, seed 2", "no stride-2 stem, another seed"),
)


# Chapter 6's test of the auxiliary heads (issue 21): the paper's GoogLeNet at half width on 72x72
# Fashion-MNIST, with and without the heads and batch normalisation (recipes.HEADS and the three
# beside it), each arm with the same seeds; :data:`HEADS_STUDY` lists the runs made so far.
HEADS_CONFIGS = ("heads", "no_heads", "bn_heads", "bn_no_heads")
HEADS_SEEDS = (0, 1, 2)


def heads_run(config: str, seed: int) -> Ablation:
    """The heads experiment's run of ``config`` with ``seed``, at the recipe's budget, with validation.

    Args:
        config: one of :data:`HEADS_CONFIGS`.
        seed: the run's seed.
    """
    if config not in HEADS_CONFIGS:
        raise ValueError(f"unknown arm {config!r} of the heads experiment: choose one of {', '.join(HEADS_CONFIGS)}")
    recipe = recipes.get(config)
    run = f"{config}_val_{recipe.epochs}ep" + (f"_seed{seed}" if seed else "")
    label = config.replace("_", " ") + (f", seed {seed}" if seed else "")
    return Ablation(run, config, seed, label, recipe.description, recipe.epochs, True)


HEADS_PLANNED: tuple[Ablation, ...] = tuple(heads_run(c, s) for s in HEADS_SEEDS for c in HEADS_CONFIGS)
HEADS_STUDY: tuple[Ablation, ...] = HEADS_PLANNED  # every planned run is made and shipped


@dataclass(frozen=True)
class Claim:
    """A claim that one recipe beats another, who makes it, and the two recipes it compares."""

    key: str
    text: str
    source: str  # "note" (the study note), "paper" (GoogLeNet's or its successors'), "recipe" (the book's
    # own build) or "record" (what the small-net records on Fashion-MNIST use)
    better: str  # the recipe the claim says is more accurate
    worse: str


# Every claim chapter 9 judges, in the order it discusses them.
CLAIMS: tuple[Claim, ...] = (
    Claim("filters", "(a) too few filters: wider branches help", "note", "wide", "improved"),
    Claim("modules", "(b) too few modules: nine modules help", "note", "deep", "improved"),
    Claim(
        "vgg", "a small VGG-style net (6 convolutions deep) beats inception at equal cost", "note", "vgg", "improved"
    ),
    Claim("vgg_shaped", "a VGG-shaped net beats inception at equal cost", "note", "vgg_shaped", "improved"),
    Claim("augment", "augmentation helps", "note", "improved", "no_augment"),
    Claim("aux", "light auxiliary heads help a nine-module build", "paper", "deep_aux", "deep"),
    Claim("aux_paper", "the paper's auxiliary heads help a nine-module build", "paper", "aux_paper", "deep"),
    Claim("bn", "batch normalisation helps", "recipe", "improved", "no_bn"),
    Claim("stem", "the stride-2 stem helps", "recipe", "improved", "full_res"),
    Claim("cosine", "cosine decay beats a constant learning rate", "recipe", "improved", "constant_lr"),
    Claim("proportions", "GoogLeNet's widths beat equal widths at equal cost", "recipe", "improved", "equal_widths"),
)


# What chapter 6's experiment judges: the paper's motivation for the heads, where it applies
# (no batch normalisation) and where torchvision trains them (with it).
HEADS_CLAIMS: tuple[Claim, ...] = (
    Claim("heads", "the auxiliary heads help GoogLeNet without batch normalisation", "paper", "heads", "no_heads"),
    Claim(
        "bn_heads", "the auxiliary heads help GoogLeNet with batch normalisation", "paper", "bn_heads", "bn_no_heads"
    ),
    Claim("heads_bn", "batch normalisation helps GoogLeNet trained with its heads", "recipe", "bn_heads", "heads"),
)


def runs_of(config: str, study: Sequence[Ablation]) -> list[Ablation]:
    """The study's runs of one recipe, the seed-0 run first (the one a paired test pairs).

    Args:
        config: a recipe name.
        study: the runs to choose from (for instance :data:`VALIDATION_STUDY`).
    """
    found = sorted((a for a in study if a.config == config), key=lambda a: a.seed)
    budgets = {(a.epochs, a.validation) for a in found}
    if len(budgets) > 1:
        raise ValueError(f"the runs of {config!r} have different budgets or splits {sorted(budgets)}: judge one study")
    seeds = [a.seed for a in found]
    if len(set(seeds)) != len(seeds) or len({a.run for a in found}) != len(found):
        raise ValueError(f"the study lists a seed or a folder of {config!r} twice: {[a.run for a in found]}")
    if not found or found[0].seed != 0:
        raise ValueError(f"the study has no seed-0 run of {config!r}: make it with `{planned_run(config).command()}`")
    return found


def planned_run(config: str) -> Ablation:
    """The seed-0 study run of ``config`` at :data:`STUDY_EPOCHS`, with validation (made or not yet).

    Args:
        config: a recipe name.
    """
    return _study(f"{config}_val_{STUDY_EPOCHS}ep", config, 0, config, recipes.get(config).description)


def _require_scored(runs: Sequence[str], correct: Mapping[str, np.ndarray]) -> None:
    missing = [run for run in runs if run not in correct]
    if missing:
        raise KeyError(f"no per-image results for {missing}: score those runs' models first")


def judge(
    claim: Claim,
    correct: Mapping[str, np.ndarray],
    study: Sequence[Ablation],
    seed: int = 0,
    level: float = 0.95,
    draws: int = 2000,
) -> dict[str, object]:
    """The paired verdict on one claim from every seed of its two recipes in ``study``.

    Args:
        claim: the claim to judge.
        correct: per run folder name, per test image whether that run's model was right.
        study: the runs available (the seed-0 run of each recipe is required).
        seed: seed of the bootstrap resampling.
        level: coverage of the interval; the verdict's McNemar threshold is ``1 - level``, so a
            Bonferroni-corrected verdict over ``m`` claims is ``level=1 - 0.05 / m``.
        draws: bootstrap resamples (raise it for a level near 1, whose tails hold few draws).

    Returns :func:`googlenet.stats.seeded_comparison`'s dict (effect in points, interval, McNemar
    on the two seed-0 runs, verdict, seeds per recipe).
    """
    chosen = {side: runs_of(config, study) for side, config in (("better", claim.better), ("worse", claim.worse))}
    _require_scored([a.run for runs in chosen.values() for a in runs], correct)
    better = [correct[a.run] for a in chosen["better"]]
    worse = [correct[a.run] for a in chosen["worse"]]
    return stats.seeded_comparison(better, worse, draws=draws, level=level, seed=seed)


BONFERRONI_DRAWS = 10_000
"""Bootstrap resamples for a Bonferroni-corrected interval, whose thin tails need more than 2,000."""


def bonferroni_judgements(
    claims: Sequence[Claim],
    correct: Mapping[str, np.ndarray],
    study: Sequence[Ablation],
    keys: Sequence[str],
    alpha: float = 0.05,
    draws: int = BONFERRONI_DRAWS,
) -> tuple[float, dict[str, dict[str, object]]]:
    """Bonferroni's correction of both halves of a verdict: the McNemar threshold and the interval.

    Judging ``m`` claims at once, each is held to ``alpha / m`` instead of ``alpha``, and its
    interval is widened to the level ``1 - alpha / m``. Only a decided verdict can change, so
    ``keys`` names the claims to judge again (usually those "supported" or "contradicted").

    Args:
        claims: every claim judged at once (``m = len(claims)``).
        correct: per run folder name, per test image whether that run's model was right.
        study: the runs available.
        keys: keys of the claims to judge again at the corrected level (a subset of ``claims``).
        alpha: the family-wise error rate, between 0 and 1.
        draws: bootstrap resamples per corrected interval.

    Returns the corrected threshold ``alpha / m`` and, per key in ``keys``, :func:`judge`'s dict at
    level ``1 - alpha / m``.
    """
    if isinstance(keys, str):
        raise TypeError(f"keys is a sequence of claim keys, such as [{keys!r}], not one string")
    if not claims:
        raise ValueError("no claims given: Bonferroni's correction needs the claims judged at once")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie between 0 and 1 (a rate such as 0.05), got {alpha!r}")
    by_key = {c.key: c for c in claims}
    if len(by_key) != len(claims):
        raise ValueError(f"claims repeat a key ({[c.key for c in claims]}): pass each claim once, or m is inflated")
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise KeyError(f"{unknown} are not among the claims given ({sorted(by_key)}): pass their claims too")
    threshold = alpha / len(claims)
    judged = {k: judge(by_key[k], correct, study, level=1 - threshold, draws=draws) for k in keys}
    return threshold, judged


def seed_pair_tests(
    claim: Claim, correct: Mapping[str, np.ndarray], study: Sequence[Ablation]
) -> list[dict[str, float | int]]:
    """McNemar's test on every seed pair of the claim's recipes: seed k of one against seed k of the other.

    :func:`judge` tests only the seed-0 pair; this shows how much that one pair's p-value owes to
    which two networks the seeds happened to make. Only seeds both recipes have are paired.

    Args:
        claim: the claim.
        correct: per run folder name, per test image whether that run's model was right.
        study: the runs available.

    Returns one dict per shared seed, in seed order: ``seed``, ``effect`` (points, better minus
    worse), ``only_better`` and ``only_worse`` (the discordant images) and ``p_value``.
    """
    better = {a.seed: a.run for a in runs_of(claim.better, study)}
    worse = {a.seed: a.run for a in runs_of(claim.worse, study)}
    shared = sorted(better.keys() & worse.keys())
    _require_scored([run for s in shared for run in (better[s], worse[s])], correct)
    pairs = []
    for s in shared:
        a, b = np.asarray(correct[better[s]], bool), np.asarray(correct[worse[s]], bool)
        test = stats.mcnemar_exact(a, b)
        effect = 100 * (float(np.mean(a)) - float(np.mean(b)))
        pairs.append(
            {
                "seed": s,
                "effect": effect,
                "only_better": test.only_a,
                "only_worse": test.only_b,
                "p_value": test.p_value,
            }
        )
    return pairs


def missing_recipes(claim: Claim, study: Sequence[Ablation]) -> list[str]:
    """The claim's recipes that have no seed-0 run in ``study`` yet (empty: it can be judged).

    Args:
        claim: the claim.
        study: the runs available.
    """
    have = {a.config for a in study if a.seed == 0}
    return [config for config in (claim.better, claim.worse) if config not in have]


def worded_verdict(verdict: str, low: float, high: float) -> str:
    """A verdict of :func:`googlenet.stats.paired_verdict` worded as strongly as its evidence.

    "Not detectable" quotes the interval, which says both that no effect is ruled out and how
    large an effect the design could still have missed.

    Args:
        verdict: ``"supported"``, ``"contradicted"`` or ``"not detectable"``.
        low: the lower end of the effect's interval, in points.
        high: its upper end, in points.
    """
    if verdict in ("supported", "contradicted"):
        return f"{verdict} at this budget"
    if verdict == "not detectable":
        return f"not detectable at this budget (interval {low:+.2f} to {high:+.2f} points)"
    raise ValueError(f"unknown verdict {verdict!r}: expected supported, contradicted or not detectable")


def load_study_run(ablation: Ablation) -> dict:
    """The run's metadata with its per-epoch ``history`` attached, checked against ``ablation``.

    A missing folder or a run made with other settings is an error that says how to make it.

    Args:
        ablation: the study run to load.
    """
    try:
        run = load_run(ablation.run)
    except FileNotFoundError as error:
        raise FileNotFoundError(f"{error}; make the run with `{ablation.command()}`") from error
    expected = {"config": ablation.config, "seed": ablation.seed, "epochs": ablation.epochs}
    found = {key: run.metadata.get(key) for key in expected}
    if found != expected:
        raise ValueError(
            f"{run.folder} describes {found}, but the study expects {expected}: "
            f"remake it with `{ablation.command()}` into an empty folder"
        )
    return run.metadata | {"history": run.history}


def seed_noise(accuracies: Sequence[float]) -> dict[str, float]:
    """Mean, sample standard deviation and spread (max - min) of repeated runs' accuracies.

    Args:
        accuracies: the repeated runs' accuracies (at least two).
    """
    if len(accuracies) < 2:
        raise ValueError(f"run-to-run noise needs at least 2 runs, got {len(accuracies)}")
    return {
        "mean": statistics.fmean(accuracies),
        "std": statistics.stdev(accuracies),
        "spread": max(accuracies) - min(accuracies),
    }


def choose_budget(validation_accuracy: dict[int, float], tolerance: float = BUDGET_TOLERANCE) -> int:
    """The shortest budget whose final validation accuracy is within ``tolerance`` of the longest's.

    Issue 22's rule for the study's budget: train the baseline under cosine schedules of several
    lengths, and keep the shortest that loses at most ``tolerance`` (a fraction: 0.003 is 0.3
    points) of validation accuracy against the longest schedule.

    Args:
        validation_accuracy: final validation accuracy (a fraction) by number of epochs.
        tolerance: the largest loss accepted, as a fraction.
    """
    if len(validation_accuracy) < 2:
        raise ValueError(f"need at least two budgets to choose between, got {sorted(validation_accuracy)}")
    longest = max(validation_accuracy)
    good = [e for e, acc in validation_accuracy.items() if acc >= validation_accuracy[longest] - tolerance]
    return min(good)
