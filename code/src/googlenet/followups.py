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


def followup(config: str, label: str, change: str) -> Ablation:
    """The seed-0 run of ``config`` with chapter 9's budget and validation split.

    Args:
        config: a recipe name.
        label: the run's short name in tables.
        change: what it changes, in a few words.
    """
    return replace(planned_run(config), label=label, change=change)


FOLLOWUP_RUNS: tuple[Ablation, ...] = (
    followup("factorised", "factorised modules", "every 5x5 as two stacked 3x3 convolutions"),
    followup("separable", "separable modules", "the 3x3 and 5x5 as depthwise separable convolutions"),
    followup("label_smoothing", "label smoothing", "training targets smoothed with epsilon 0.1"),
    followup("ema", "moving average", "scored and saved with the weights' moving average (0.999)"),
    followup("bf16", "bfloat16", "mixed bfloat16 arithmetic, float32 weights and logits"),
)
"""The arms trained so far (registered once their folder is committed)."""

FOLLOWUP_STUDY: tuple[Ablation, ...] = tuple(a for a in VALIDATION_STUDY if a.config == "improved") + FOLLOWUP_RUNS
"""The baseline's seeds and the arms: what :func:`googlenet.ablation.judge` reads."""

# A claim "better beats worse": for a cheaper module, a difference of zero is the hoped-for result.
FOLLOWUP_CLAIMS: tuple[Claim, ...] = (
    Claim("factorised", "Inception-v3's factorised modules change accuracy", "paper", "factorised", "improved"),
    Claim("separable", "separable convolutions change accuracy", "paper", "separable", "improved"),
    Claim("label_smoothing", "label smoothing (0.1) helps", "paper", "label_smoothing", "improved"),
    Claim("ema", "a moving average of the weights helps", "paper", "ema", "improved"),
    Claim("bf16", "bfloat16 arithmetic changes accuracy", "recipe", "bf16", "improved"),
)
