"""Paired comparisons of classifiers on the same test images: McNemar's test and bootstraps.

Two models scored on the same 10,000 images are not two independent samples: most images are
right (or wrong) for both, and only the images where they disagree carry evidence about which
is better. :func:`mcnemar_exact` tests exactly those; :func:`bootstrap_difference` resamples
images (the same resample for both models) to give an interval for the difference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def _correct(name: str, values) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of per-image results, got shape {array.shape}")
    if array.dtype != bool:
        if not np.isin(array, (0, 1)).all():
            raise ValueError(f"{name} must hold True/False (or 1/0) per image: whether the model was right")
        array = array.astype(bool)
    return array


def _paired(correct_a, correct_b) -> tuple[np.ndarray, np.ndarray]:
    a, b = _correct("correct_a", correct_a), _correct("correct_b", correct_b)
    if a.shape != b.shape:
        raise ValueError(f"the two models were scored on different images: {a.size} and {b.size} results")
    return a, b


@dataclass(frozen=True)
class McNemar:
    """The discordant counts and the exact two-sided p-value."""

    only_a: int  # images model A got right and model B wrong
    only_b: int  # images model B got right and model A wrong
    p_value: float


def mcnemar_exact(correct_a, correct_b) -> McNemar:
    """McNemar's exact test that two classifiers are equally accurate on the same images.

    Under the null hypothesis each discordant image is A's or B's with probability 1/2, so the
    p-value is the two-sided binomial probability of a split at least as uneven as observed.

    Args:
        correct_a: per image, whether model A classified it correctly (bools or 0/1).
        correct_b: the same for model B, on the same images in the same order.
    """
    from scipy.stats import binomtest

    a, b = _paired(correct_a, correct_b)
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    n = only_a + only_b
    p = 1.0 if n == 0 else float(binomtest(only_a, n, 0.5, alternative="two-sided").pvalue)
    return McNemar(only_a, only_b, min(p, 1.0))


def disagreement_rate(predicted_a, predicted_b) -> float:
    """Share of images on which two models predict different classes.

    Args:
        predicted_a: class predicted by model A for every image.
        predicted_b: class predicted by model B for the same images.
    """
    a, b = np.asarray(predicted_a), np.asarray(predicted_b)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(f"predictions must be two 1-D arrays of the same length, got {a.shape} and {b.shape}")
    return float(np.mean(a != b))


@dataclass(frozen=True)
class Interval:
    """A point estimate and its percentile bootstrap interval."""

    estimate: float
    low: float
    high: float
    level: float

    def excludes_zero(self) -> bool:
        """Whether the whole interval lies on one side of 0."""
        return self.low > 0 or self.high < 0


def _resamples(n: int, draws: int, seed: int) -> np.ndarray:
    if draws < 100:
        raise ValueError(f"draws must be at least 100 for a percentile interval, got {draws}")
    return np.random.default_rng(seed).integers(0, n, size=(draws, n))


def _interval(estimate: float, samples: np.ndarray, level: float) -> Interval:
    if not 0 < level < 1:
        raise ValueError(f"level must be a fraction in (0, 1), got {level}")
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return Interval(float(estimate), float(low), float(high), level)


def bootstrap_accuracy(correct, draws: int = 2000, level: float = 0.95, seed: int = 0) -> Interval:
    """Accuracy (a fraction) with a percentile bootstrap interval over the test images.

    Args:
        correct: per image, whether the model was right.
        draws: bootstrap resamples of the images.
        level: coverage of the interval (0.95 for a 95% interval).
        seed: seed of the resampling (the same seed gives the same interval).
    """
    a = _correct("correct", correct)
    index = _resamples(a.size, draws, seed)
    return _interval(a.mean(), a[index].mean(axis=1), level)


def bootstrap_difference(correct_a, correct_b, draws: int = 2000, level: float = 0.95, seed: int = 0) -> Interval:
    """Accuracy of A minus accuracy of B (fractions), with a paired bootstrap interval.

    Each resample draws the same images for both models, so the interval reflects how the two
    differ on shared images rather than the (much larger) spread of either accuracy alone.

    Args:
        correct_a: per image, whether model A was right.
        correct_b: the same for model B, on the same images.
        draws: bootstrap resamples of the images.
        level: coverage of the interval.
        seed: seed of the resampling.
    """
    a, b = _paired(correct_a, correct_b)
    index = _resamples(a.size, draws, seed)
    difference = a.astype(np.int8) - b.astype(np.int8)
    return _interval(difference.mean(), difference[index].mean(axis=1), level)


def _runs(name: str, runs) -> list[np.ndarray]:
    arrays = [_correct(f"{name}[{i}]", r) for i, r in enumerate(runs)]
    if not arrays:
        raise ValueError(f"{name} must hold at least one run's per-image results")
    if len({a.size for a in arrays}) != 1:
        raise ValueError(f"the runs in {name} were scored on different numbers of images")
    return arrays


def bootstrap_seed_difference(
    runs_a: Sequence[np.ndarray],
    runs_b: Sequence[np.ndarray],
    draws: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Mean accuracy of recipe A's runs minus recipe B's, resampling test images *and* seeds.

    Each draw resamples the test images (the same images for every run) and adds run-to-run
    noise: a recipe with k runs (one per seed) adds the mean of k of its runs' deviations from
    its mean accuracy, drawn with replacement and scaled by sqrt(k / (k - 1)), so that the
    draw varies like the mean of k new seeds. A recipe with one run borrows the other recipe's
    deviations for its one seed, which assumes the two recipes' seeds scatter alike; with one
    run each there is nothing to borrow, and this is :func:`bootstrap_difference` (the same
    resamples, the same interval).

    Args:
        runs_a: per run of recipe A (one per seed), per image whether it was right.
        runs_b: the same for recipe B, scored on the same images.
        draws: bootstrap resamples.
        level: coverage of the interval.
        seed: seed of the resampling.

    Returns the :class:`Interval` of the difference (fractions, A minus B).
    """
    a, b = _runs("runs_a", runs_a), _runs("runs_b", runs_b)
    if a[0].size != b[0].size:
        raise ValueError(f"the two recipes were scored on different images: {a[0].size} and {b[0].size} results")
    index = _resamples(a[0].size, draws, seed)
    pick = np.random.default_rng([seed, 1])

    def deviations(arrays: list[np.ndarray]) -> np.ndarray | None:
        if len(arrays) < 2:
            return None
        full = np.array([r.mean() for r in arrays])
        return (full - full.mean()) * np.sqrt(len(arrays) / (len(arrays) - 1))

    def resampled(arrays: list[np.ndarray], noise: np.ndarray | None) -> np.ndarray:
        images = np.mean([r[index].mean(axis=1) for r in arrays], axis=0)  # (draws,)
        if noise is None:
            return images
        chosen = pick.integers(0, len(noise), size=(draws, len(arrays)))  # one deviation per seed
        return images + noise[chosen].mean(axis=1)

    noise_a, noise_b = deviations(a), deviations(b)
    estimate = np.mean([r.mean() for r in a]) - np.mean([r.mean() for r in b])
    samples = resampled(a, noise_a if noise_a is not None else noise_b) - resampled(
        b, noise_b if noise_b is not None else noise_a
    )
    return _interval(estimate, samples, level)


def paired_verdict(difference: Interval, test: McNemar, alpha: float = 0.05) -> str:
    """Word a claim "A is more accurate than B" by the paired evidence.

    ``supported`` when the interval lies above 0 and McNemar's p is below ``alpha``;
    ``contradicted`` when the interval lies below 0 and p is below ``alpha``; otherwise
    ``not detectable`` (the design could not tell the two apart).

    Args:
        difference: accuracy of A minus B with its interval (:func:`bootstrap_difference`).
        test: McNemar's test of the same pair (:func:`mcnemar_exact`).
        alpha: the significance level.
    """
    if test.p_value < alpha and difference.low > 0:
        return "supported"
    if test.p_value < alpha and difference.high < 0:
        return "contradicted"
    return "not detectable"


def paired_comparison(correct_a, correct_b, draws: int = 2000, level: float = 0.95, seed: int = 0) -> dict:
    """Everything a verdict on "A beats B" needs, in points: effect, interval, McNemar, verdict.

    Args:
        correct_a: per image, whether model A was right.
        correct_b: the same for model B, on the same images.
        draws: bootstrap resamples.
        level: coverage of the interval.
        seed: seed of the resampling.

    Returns a dict with ``effect``, ``low``, ``high`` (accuracy points, A minus B), ``only_a``,
    ``only_b`` (discordant images), ``p_value`` and ``verdict`` (:func:`paired_verdict`).
    """
    difference = bootstrap_difference(correct_a, correct_b, draws=draws, level=level, seed=seed)
    return _in_points(difference, mcnemar_exact(correct_a, correct_b))


def _in_points(difference: Interval, test: McNemar) -> dict:
    return {
        "effect": 100 * difference.estimate,
        "low": 100 * difference.low,
        "high": 100 * difference.high,
        "only_a": test.only_a,
        "only_b": test.only_b,
        "p_value": test.p_value,
        "verdict": paired_verdict(difference, test, alpha=1 - difference.level),
    }


def seeded_comparison(
    runs_a: Sequence[np.ndarray], runs_b: Sequence[np.ndarray], draws: int = 2000, level: float = 0.95, seed: int = 0
) -> dict[str, object]:
    """A verdict on "recipe A beats recipe B" from several seeds of either, in points.

    The effect is the difference of the recipes' mean accuracies with the interval of
    :func:`bootstrap_seed_difference`; McNemar's test pairs the *first* run of each list, which
    should share a seed (the same initial weights where the layers match, the same data order).

    Args:
        runs_a: per run of recipe A, per image whether it was right; the first has the shared seed.
        runs_b: the same for recipe B, on the same images.
        draws: bootstrap resamples.
        level: coverage of the interval.
        seed: seed of the resampling.

    Returns the keys of :func:`paired_comparison` and ``seeds_a``, ``seeds_b`` (runs per recipe).
    """
    runs_a, runs_b = list(runs_a), list(runs_b)
    difference = bootstrap_seed_difference(runs_a, runs_b, draws=draws, level=level, seed=seed)
    return _in_points(difference, mcnemar_exact(runs_a[0], runs_b[0])) | {
        "seeds_a": len(runs_a),
        "seeds_b": len(runs_b),
    }


def detectable_difference(discordant: float, images: int, z: float = 1.96) -> float:
    """Smallest accuracy difference (points) McNemar's test can call real, for a given discordance.

    With ``discordant`` images on which two models disagree about correctness, a split is
    significant at about the 5% level (``z = 1.96``) once it is uneven by ``z * sqrt(discordant)``
    images; divided by the test set's size that is the smallest detectable effect.

    Args:
        discordant: images right for exactly one of the two models (typical for the design).
        images: size of the test set.
        z: the normal quantile of the two-sided test's level.
    """
    if discordant < 0 or images < 1:
        raise ValueError(f"need discordant >= 0 and images >= 1, got {discordant} and {images}")
    return 100 * z * float(np.sqrt(discordant)) / images


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def format_p(p: float) -> str:
    """A p-value as prose prints it: two significant digits, or "8 × 10⁻⁵" below 0.001.

    Args:
        p: the p-value, in [0, 1].
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"a p-value lies in [0, 1], got {p}")
    if p == 0.0:
        return "0"
    if p >= 0.001:
        return f"{p:.2g}"
    mantissa, exponent = f"{p:.0e}".split("e")
    return f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def geometric_mean(values, axis: int | None = None):
    """The geometric mean, the average that suits ratios: the mean of 2 and 1/2 is 1.

    Args:
        values: positive numbers (a sequence, an array, or a pandas frame or series).
        axis: the axis to average over (``None``: all values; 1: across a frame's columns).
    """
    array = np.asarray(values, dtype=float)
    if array.size == 0 or not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError("geometric_mean needs positive, finite values; ratios of norms are, zeros and NaNs are not")
    if axis is None:  # the C library's scalar log and exact sum: the same digits on any x86 CPU,
        # where NumPy's SIMD logarithm differs in the last digits between instruction sets
        return math.exp(math.fsum(math.log(v) for v in array.ravel().tolist()) / array.size)
    if hasattr(values, "apply"):  # a pandas frame keeps its index
        return values.apply(geometric_mean, axis=axis)
    return np.apply_along_axis(geometric_mean, axis, array)
