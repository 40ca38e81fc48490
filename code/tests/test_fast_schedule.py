"""The fast recipe's schedule rule and the published accuracies chapters 8 and 10 quote."""

from __future__ import annotations

import json

import pytest

from googlenet import evaluate, followups, paths, published, runs


def _history(*seconds: float) -> list[dict]:
    return [{"epoch": i, "seconds_since_process_start": s} for i, s in enumerate(seconds, start=1)]


def test_predicted_seconds_extrapolates_the_later_epochs():
    history = _history(50.0, 90.0, 130.0)  # 10 s of start-up, 40 s an epoch
    assert followups.predicted_seconds(history, 1) == 50.0
    assert followups.predicted_seconds(history, 5) == 210.0
    with pytest.raises(ValueError, match="at least 2 epochs"):
        followups.predicted_seconds(history[:1], 3)


def test_the_longest_schedule_leaves_the_reserve():
    history = _history(50.0, 90.0, 130.0)
    assert followups.longest_schedule_within(history, budget=180, reserve=1 / 6) == 3  # 170 s > 150 s
    assert followups.longest_schedule_within(history, budget=180, reserve=0) == 4  # 170 s <= 180 s
    with pytest.raises(ValueError, match="even one epoch"):
        followups.longest_schedule_within(history, budget=50, reserve=0.5)


def test_published_entries_are_fractions_and_named():
    assert published.reported("ResNet18").accuracy == 0.949
    assert all(0 < e.accuracy < 1 and e.source for e in published.REPORTED)
    with pytest.raises(ValueError, match="choose one of"):
        published.reported("ResNet-18")


def test_the_shipped_fast_run_is_the_chosen_schedule_and_meets_the_goal():
    pilot = json.loads((paths.results_dir() / followups.FAST_PILOTS[-1] / "history.json").read_text())
    run = runs.load_run(followups.FAST_RUN)
    assert run.metadata["epochs"] == followups.longest_schedule_within(pilot)
    assert run.metadata["run_config"]["config"] == "fast" and len(run.metadata["segments"]) == 1
    reached = evaluate.first_epoch_reaching(run.history, evaluate.NOTE_TEST_ACCURACY)
    assert reached is not None and reached["seconds_since_process_start"] <= followups.FAST_BUDGET_SECONDS
