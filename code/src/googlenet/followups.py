"""The runs and claims of chapter 10 and the appendix: later modules, the papers' tricks, bfloat16.

Each arm changes one thing in the improved build and trains with chapter 9's design (the same
5,000 validation images held out, :data:`googlenet.ablation.STUDY_EPOCHS` epochs, seed 0), so
it is judged against the baseline's three seeds by :func:`googlenet.ablation.judge`, like every
claim of chapter 9. :data:`FOLLOWUP_STUDY` lists the runs made so far (the baseline's seeds
included); a claim whose arm has no run yet is reported as pending.
"""

from __future__ import annotations

from dataclasses import replace

from .ablation import VALIDATION_STUDY, Ablation, Claim, planned_run


def followup(config: str, label: str, change: str, seed: int = 0) -> Ablation:
    """A run of ``config`` with chapter 9's budget and validation split (seed 0 unless told).

    Args:
        config: a recipe name.
        label: the run's short name in tables (", seed N" is added for a seed other than 0).
        change: what it changes, in a few words.
        seed: the run's seed; its folder is the seed-0 run's with ``_seedN`` appended.
    """
    first = planned_run(config)
    if seed == 0:
        return replace(first, label=label, change=change)
    if seed < 0:
        raise ValueError(f"a run's seed is 0 or more, got {seed}")
    return replace(first, run=f"{first.run}_seed{seed}", seed=seed, label=f"{label}, seed {seed}", change=change)


FOLLOWUP_RUNS: tuple[Ablation, ...] = (
    followup("factorised", "factorised modules", "every 5x5 as two stacked 3x3 convolutions"),
    followup("separable", "separable modules", "the 3x3 and 5x5 as depthwise separable convolutions"),
    followup("label_smoothing", "label smoothing", "training targets smoothed with epsilon 0.1"),
    followup("ema", "moving average", "scored and saved with the weights' moving average (0.999)"),
    followup("bf16", "bfloat16", "mixed bfloat16 arithmetic, float32 weights and logits"),
    followup("erasing", "random erasing", "a random rectangle of noise in half the training images"),
    followup("warmup", "warm-up", "the learning rate rises linearly over the first epoch"),
    followup("mid_wide", "branches x1.4", "every branch and the stem's second conv 1.4 times as wide"),
    followup("separable", "separable modules", "separable modules, another seed", seed=1),
    followup("separable", "separable modules", "separable modules, another seed", seed=2),
    followup("factorised", "factorised modules", "factorised modules, another seed", seed=1),
    followup("factorised", "factorised modules", "factorised modules, another seed", seed=2),
)
"""The arms trained so far (registered once their folder is committed)."""

FOLLOWUP_STUDY: tuple[Ablation, ...] = tuple(a for a in VALIDATION_STUDY if a.config == "improved") + FOLLOWUP_RUNS
"""The baseline's seeds and the arms: what :func:`googlenet.ablation.judge` reads."""

# A claim "better beats worse": for a cheaper module, a difference of zero is the hoped-for result.
FOLLOWUP_CLAIMS: tuple[Claim, ...] = (
    Claim("factorised", "Inception-v3's factorised modules change accuracy", "paper", "factorised", "improved"),
    Claim("separable", "separable modules keep GoogLeNet's accuracy", "paper", "separable", "improved"),
    Claim("label_smoothing", "label smoothing (0.1) helps", "paper", "label_smoothing", "improved"),
    Claim("ema", "a moving average of the weights helps", "paper", "ema", "improved"),
    Claim("bf16", "bfloat16 arithmetic changes accuracy", "recipe", "bf16", "improved"),
    Claim("erasing", "random erasing (0.5) helps", "record", "erasing", "improved"),
    Claim("warmup", "a one-epoch learning-rate warm-up helps", "record", "warmup", "improved"),
    Claim("mid_wide", "branches 1.4 times as wide help", "record", "mid_wide", "improved"),
)

# The race to the note's 91.24% (chapter 10): pilots with validation, then the chosen schedule.
FAST_BUDGET_SECONDS = 180.0
"""The wall-clock goal: the note's 91.24% within 3 minutes of a cold start (the process's start)."""
FAST_RESERVE = 1 / 6
"""Share of the budget a schedule must leave unused, for a busier machine (so 150 s of 180)."""
FAST_PILOTS: tuple[str, ...] = ("fast_val_2ep", "fast_val_3ep")
"""The fast recipe for 2 and 3 epochs with the validation images held out: what the choice reads."""
FAST_RUN = "fast_3ep"
"""The chosen schedule, trained on all 60,000 images: the run the goal is judged on."""


def predicted_seconds(history: list[dict], epochs: int) -> float:
    """Seconds from the process's start to the end of epoch ``epochs``, extrapolated from a run.

    The first epoch's time (start-up, tracing and one epoch) plus the mean time of each later epoch.

    Args:
        history: a run's rows, with ``seconds_since_process_start`` and at least two epochs.
        epochs: the schedule's length to predict.
    """
    times = [row["seconds_since_process_start"] for row in history]
    if len(times) < 2:
        raise ValueError(f"predicting a schedule's time needs a run of at least 2 epochs, got {len(times)}")
    per_epoch = (times[-1] - times[0]) / (len(times) - 1)
    return times[0] + (epochs - 1) * per_epoch


def longest_schedule_within(
    history: list[dict], budget: float = FAST_BUDGET_SECONDS, reserve: float = FAST_RESERVE
) -> int:
    """The most epochs whose predicted time (:func:`predicted_seconds`) leaves ``reserve`` of ``budget``.

    A cosine schedule's accuracy grows with its length, so the time budget, not the validation
    accuracy, sets it; the validation images then say whether that schedule clears the target.

    Args:
        history: a pilot run's rows (see :func:`predicted_seconds`).
        budget: the wall-clock budget in seconds from the process's start.
        reserve: share of the budget to leave unused.
    """
    limit = budget * (1 - reserve)
    if predicted_seconds(history, 1) > limit:
        raise ValueError(f"even one epoch takes {predicted_seconds(history, 1):.0f} s, over {limit:.0f} s")
    epochs = 1
    while predicted_seconds(history, epochs + 1) <= limit:
        epochs += 1
    return epochs
