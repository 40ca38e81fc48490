from __future__ import annotations

import numpy as np
import pytest

from googlenet import stats


def test_mcnemar_matches_the_binomial_tail_by_hand():
    # 10 discordant images, 8 for A and 2 for B: p = 2 * P(X <= 2 | n=10, 1/2) = 2 * 56 / 1024.
    a = np.array([1] * 8 + [0] * 2 + [1] * 50 + [0] * 5, dtype=bool)
    b = np.array([0] * 8 + [1] * 2 + [1] * 50 + [0] * 5, dtype=bool)
    result = stats.mcnemar_exact(a, b)
    assert (result.only_a, result.only_b) == (8, 2)
    assert result.p_value == pytest.approx(2 * (1 + 10 + 45) / 1024)


def test_mcnemar_without_disagreement_is_one():
    same = np.array([True, False, True])
    assert stats.mcnemar_exact(same, same).p_value == 1.0


def test_disagreement_rate():
    assert stats.disagreement_rate([1, 2, 3, 4], [1, 2, 0, 0]) == 0.5
    with pytest.raises(ValueError, match="same length"):
        stats.disagreement_rate([1, 2], [1])


def test_bootstrap_accuracy_covers_the_estimate_and_is_reproducible():
    correct = np.random.default_rng(1).random(10_000) < 0.9
    interval = stats.bootstrap_accuracy(correct, draws=500, seed=3)
    assert interval.low < interval.estimate == correct.mean() < interval.high
    # The binomial standard error is sqrt(0.09 / 10,000) = 0.003: a 95% interval is about +-0.006.
    assert 0.009 < interval.high - interval.low < 0.015
    assert interval == stats.bootstrap_accuracy(correct, draws=500, seed=3)


def test_paired_difference_is_narrower_than_either_accuracy_alone():
    rng = np.random.default_rng(2)
    a = rng.random(10_000) < 0.9
    b = a.copy()
    flip = rng.choice(10_000, 200, replace=False)
    b[flip[:150]] = False  # B loses 150 images A had ...
    b[flip[150:]] = True  # ... and wins up to 50
    difference = stats.bootstrap_difference(a, b, draws=500)
    alone = stats.bootstrap_accuracy(a, draws=500)
    assert difference.estimate == pytest.approx(a.mean() - b.mean())
    assert difference.high - difference.low < alone.high - alone.low
    assert difference.excludes_zero()
    assert stats.paired_verdict(difference, stats.mcnemar_exact(a, b)) == "supported"
    reverse = stats.bootstrap_difference(b, a, draws=500)
    assert stats.paired_verdict(reverse, stats.mcnemar_exact(b, a)) == "contradicted"
    assert stats.paired_verdict(stats.bootstrap_difference(a, a, draws=500), stats.mcnemar_exact(a, a)) == (
        "not detectable"
    )


@pytest.mark.parametrize(
    "a, b, message",
    [
        ([True, False], [True], "different images"),
        ([], [], "non-empty"),
        ([2, 0], [1, 0], "True/False"),
    ],
)
def test_bad_inputs_are_refused(a, b, message):
    with pytest.raises(ValueError, match=message):
        stats.mcnemar_exact(a, b)


def test_bad_bootstrap_settings_are_refused():
    with pytest.raises(ValueError, match="draws"):
        stats.bootstrap_accuracy([True, False], draws=10)
    with pytest.raises(ValueError, match="level"):
        stats.bootstrap_accuracy([True, False], level=95)


def test_paired_comparison_reports_points_and_the_verdict():
    a = np.array([True] * 60 + [False] * 40)
    b = np.array([True] * 40 + [False] * 60)
    result = stats.paired_comparison(a, b, draws=500)
    assert result["effect"] == pytest.approx(20.0)
    assert (result["only_a"], result["only_b"]) == (20, 0)
    assert result["low"] > 0 and result["verdict"] == "supported"


def test_detectable_difference():
    # 400 discordant images on 10,000: 1.96 * 20 = 39.2 images, 0.392 points.
    assert stats.detectable_difference(400, 10_000) == pytest.approx(0.392)
    with pytest.raises(ValueError, match="discordant"):
        stats.detectable_difference(-1, 10)


def test_seed_bootstrap_with_one_run_each_is_the_paired_bootstrap():
    rng = np.random.default_rng(3)
    a, b = rng.random(500) < 0.9, rng.random(500) < 0.85
    one = stats.bootstrap_seed_difference([a], [b], draws=300, seed=4)
    paired = stats.bootstrap_difference(a, b, draws=300, seed=4)
    assert (one.estimate, one.low, one.high) == pytest.approx((paired.estimate, paired.low, paired.high), abs=1e-12)


def test_seed_bootstrap_widens_with_disagreeing_seeds_and_centres_on_the_means():
    rng = np.random.default_rng(5)
    base = rng.random(2000) < 0.9
    # Recipe A: two seeds several points apart (one better, one worse than B); recipe B: one run.
    good, bad = base | (rng.random(2000) < 0.4), base & (rng.random(2000) < 0.96)
    seeded = stats.bootstrap_seed_difference([good, bad], [base], draws=400)
    assert seeded.estimate == pytest.approx((good.mean() + bad.mean()) / 2 - base.mean())
    images_only = stats.bootstrap_difference(good, base, draws=400)
    assert seeded.high - seeded.low > 2 * (images_only.high - images_only.low)


def test_seeded_comparison_pairs_the_first_runs_for_mcnemar():
    a = np.array([True] * 60 + [False] * 40)
    b = np.array([True] * 40 + [False] * 60)
    result = stats.seeded_comparison([a, a], [b], draws=300)
    assert (result["only_a"], result["only_b"], result["seeds_a"], result["seeds_b"]) == (20, 0, 2, 1)
    assert result["effect"] == pytest.approx(20.0) and result["verdict"] == "supported"


@pytest.mark.parametrize(
    ("runs_a", "runs_b", "message"),
    [
        ([], [[True]], "at least one run"),
        ([[True, False], [True]], [[True, True]], "different numbers"),
        ([[True, False]], [[True]], "different images"),
    ],
)
def test_seed_bootstrap_refuses_bad_runs(runs_a, runs_b, message):
    with pytest.raises(ValueError, match=message):
        stats.bootstrap_seed_difference(runs_a, runs_b)


def test_a_single_run_borrows_the_other_recipes_seed_noise():
    rng = np.random.default_rng(8)
    base = rng.random(3000) < 0.9
    seeds = [base | (rng.random(3000) < p) for p in (0.0, 0.2, 0.4)]  # three seeds far apart
    single = base & (rng.random(3000) < 0.99)
    borrowed = stats.bootstrap_seed_difference([single], seeds, draws=400)
    # Without the borrowed noise the one-run side would add only image noise: the interval of
    # the three seeds' mean against a run that varies like a seed must be wider than that.
    images_only = stats.bootstrap_seed_difference([single], [np.mean(seeds, axis=0) > 0.5], draws=400)
    assert borrowed.high - borrowed.low > 1.5 * (images_only.high - images_only.low)


def test_p_values_print_as_prose_prints_them():
    assert stats.format_p(0.61) == "0.61" and stats.format_p(0.0071) == "0.0071" and stats.format_p(1.0) == "1"
    assert stats.format_p(8.2e-05) == "8 × 10⁻⁵" and stats.format_p(1.6e-14) == "2 × 10⁻¹⁴"
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        stats.format_p(1.5)


def test_geometric_mean_averages_ratios_symmetrically():
    import pandas as pd

    assert stats.geometric_mean([2.0, 0.5]) == pytest.approx(1.0)
    assert stats.geometric_mean([1.0, 4.0, 16.0]) == pytest.approx(4.0)
    frame = pd.DataFrame({0: [2.0, 9.0], 1: [8.0, 1.0]}, index=["conv1", "fc"])
    across = stats.geometric_mean(frame, axis=1)  # across the seeds, one value per stage
    assert list(across.index) == ["conv1", "fc"] and np.allclose(across, [4.0, 3.0])
    assert np.allclose(stats.geometric_mean(np.array([[1.0, 4.0], [9.0, 1.0]]), axis=0), [3.0, 2.0])


@pytest.mark.parametrize("bad", [[], [1.0, 0.0], [2.0, -1.0], [1.0, float("nan")]])
def test_geometric_mean_refuses_what_is_not_positive(bad):
    with pytest.raises(ValueError, match="positive"):
        stats.geometric_mean(bad)
