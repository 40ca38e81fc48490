from __future__ import annotations

import json

import numpy as np
import pytest

from googlenet import ablation, recipes


def test_every_ablation_names_a_known_config_and_a_unique_folder():
    assert len({a.run for a in ablation.ABLATIONS}) == len(ablation.ABLATIONS)
    assert all(a.config in recipes.RECIPES for a in ablation.ABLATIONS)
    seeds = [a.seed for a in ablation.ABLATIONS if a.config == ablation.BASELINE_CONFIG]
    assert sorted(seeds) == [0, 1, 2]  # three seeds of the baseline measure the noise


def test_study_recipe_is_the_registered_one_with_the_budget_and_seed():
    run = next(a for a in ablation.ABLATIONS if a.seed == 2)
    assert run.recipe().epochs == ablation.EPOCHS and run.recipe().seed == 2
    assert run.recipe().model_args == recipes.get(run.config).model_args


def test_command_remakes_the_run():
    wide = next(a for a in ablation.ABLATIONS if a.config == "wide")
    assert wide.command() == "python -m googlenet train --config wide --epochs 4 --seed 0 --out results/wide_4ep"


def test_seed_noise():
    noise = ablation.seed_noise([0.90, 0.91, 0.92])
    assert noise["mean"] == pytest.approx(0.91)
    assert noise["std"] == pytest.approx(0.01)
    assert noise["spread"] == pytest.approx(0.02)
    with pytest.raises(ValueError, match="at least 2"):
        ablation.seed_noise([0.9])


def test_load_run_checks_the_folder_against_the_study(tmp_path, monkeypatch):
    monkeypatch.setenv("GOOGLENET_RESULTS", str(tmp_path))
    run = ablation.ABLATIONS[3]
    with pytest.raises(FileNotFoundError, match="--config wide --epochs 4"):
        ablation.load_study_run(run)
    folder = tmp_path / run.run
    folder.mkdir()
    (folder / "history.json").write_text(json.dumps([{"epoch": e} for e in range(1, 5)]))
    (folder / "metadata.json").write_text(json.dumps({"config": "wide", "seed": 1, "epochs": 4}))
    with pytest.raises(ValueError, match="expects"):
        ablation.load_study_run(run)
    (folder / "metadata.json").write_text(json.dumps({"config": "wide", "seed": 0, "epochs": 4, "test_accuracy": 0.9}))
    loaded = ablation.load_study_run(run)
    assert loaded["test_accuracy"] == 0.9 and [r["epoch"] for r in loaded["history"]] == [1, 2, 3, 4]


def test_budget_runs_hold_out_the_validation_images():
    run = ablation.BUDGET_RUNS[0]
    assert run.command() == (
        "python -m googlenet train --config improved --epochs 15 --seed 0 --validation --out results/improved_val_15ep"
    )
    assert run.recipe().validation_per_class == 500 and run.recipe().epochs == 15
    assert [r.epochs for r in ablation.BUDGET_RUNS] == [15, 10, 6, 4]


def test_choose_budget_keeps_the_shortest_schedule_within_tolerance():
    assert ablation.choose_budget({15: 0.938, 10: 0.936, 6: 0.934, 4: 0.930}) == 10
    assert ablation.choose_budget({15: 0.938, 10: 0.936, 6: 0.935}, tolerance=0.003) == 6
    assert ablation.choose_budget({15: 0.930, 10: 0.940}) == 10  # longer is not always better
    with pytest.raises(ValueError, match="at least two"):
        ablation.choose_budget({15: 0.9})


def test_every_claim_compares_two_known_recipes_once():
    assert len({c.key for c in ablation.CLAIMS}) == len(ablation.CLAIMS)
    for claim in ablation.CLAIMS:
        assert {claim.better, claim.worse} <= set(recipes.RECIPES) and claim.better != claim.worse
        assert claim.source in {"note", "paper", "recipe", "record"}


def test_judge_uses_every_seed_and_pairs_the_seed_0_runs():
    study = [
        ablation.Ablation("b1", "improved", 1, "b", "baseline seed 1", 15, True),
        ablation.Ablation("b0", "improved", 0, "b", "baseline", 15, True),
        ablation.Ablation("w0", "wide", 0, "w", "wide", 15, True),
    ]
    right, wrong = np.ones(100, bool), np.zeros(100, bool)
    half = np.arange(100) < 50
    claim = next(c for c in ablation.CLAIMS if c.key == "filters")  # wide beats improved
    result = ablation.judge(claim, {"w0": right, "b0": half, "b1": wrong}, study)
    assert (result["seeds_a"], result["seeds_b"]) == (1, 2)
    assert (result["only_a"], result["only_b"]) == (50, 0)  # McNemar on w0 against b0, not b1
    assert result["effect"] == pytest.approx(100 - 25)  # against the mean of b0 (50%) and b1 (0%)
    assert [a.run for a in ablation.runs_of("improved", study)] == ["b0", "b1"]


def _three_seed_study() -> tuple[list[ablation.Ablation], dict[str, np.ndarray]]:
    """Three seeds of wide and of the baseline; each wide run fails 20 images, its baseline 40 (+ k)."""
    study = [
        ablation.Ablation(f"{name}{k}", config, k, name, name, 15, True)
        for name, config in (("w", "wide"), ("b", "improved"))
        for k in range(3)
    ]
    correct = {}
    for k in range(3):
        wide, base = np.ones(4000, bool), np.ones(4000, bool)
        wide[100 * k : 100 * k + 20] = False
        base[100 * k + 20 : 100 * k + 60 + k] = False
        correct[f"w{k}"], correct[f"b{k}"] = wide, base
    return study, correct


def test_judge_at_a_stricter_level_widens_the_interval_and_tightens_the_verdict():
    study, correct = _three_seed_study()
    # The seed-0 pair: 40 images only wide gets right, 20 only the baseline: p about 0.013.
    claim = next(c for c in ablation.CLAIMS if c.key == "filters")
    usual = ablation.judge(claim, correct, study)
    strict = ablation.judge(claim, correct, study, level=1 - 0.05 / 11, draws=4000)
    assert strict["effect"] == usual["effect"] and strict["p_value"] == usual["p_value"]
    assert strict["low"] < usual["low"] < usual["high"] < strict["high"]
    assert 0.05 / 11 < usual["p_value"] < 0.05  # so the strict verdict cannot be "supported"
    assert strict["verdict"] == "not detectable"
    with pytest.raises(ValueError, match="level must be a fraction"):
        ablation.judge(claim, correct, study, level=95)


def test_bonferroni_judges_the_named_claims_again_at_the_corrected_level():
    study, correct = _three_seed_study()
    filters = next(c for c in ablation.CLAIMS if c.key == "filters")
    others = [c for c in ablation.CLAIMS if c.key != "filters"][:10]
    claims = [filters, *others]  # eleven claims at once, as chapter 9 judges
    threshold, strict = ablation.bonferroni_judgements(claims, correct, study, ["filters"], draws=4000)
    assert threshold == pytest.approx(0.05 / 11) and list(strict) == ["filters"]
    same = ablation.judge(filters, correct, study, level=1 - 0.05 / 11, draws=4000)
    assert strict["filters"] == same
    default = ablation.bonferroni_judgements(claims, correct, study, ["filters"])[1]["filters"]
    more = ablation.judge(filters, correct, study, level=1 - 0.05 / 11, draws=ablation.BONFERRONI_DRAWS)
    assert default == more  # the default resamples are BONFERRONI_DRAWS
    usual = ablation.judge(filters, correct, study)
    assert usual["verdict"] == "supported" and strict["filters"]["verdict"] == "not detectable"
    alone, _ = ablation.bonferroni_judgements([filters], correct, study, [], draws=4000)
    assert alone == pytest.approx(0.05)  # one claim: no correction, and nothing judged again


def test_bonferroni_refuses_unknown_keys_no_claims_and_a_bad_rate():
    study, correct = _three_seed_study()
    filters = next(c for c in ablation.CLAIMS if c.key == "filters")
    with pytest.raises(KeyError, match="not among the claims given"):
        ablation.bonferroni_judgements([filters], correct, study, ["bn"])
    with pytest.raises(ValueError, match="no claims given"):
        ablation.bonferroni_judgements([], correct, study, [])
    with pytest.raises(ValueError, match="alpha must lie between 0 and 1"):
        ablation.bonferroni_judgements([filters], correct, study, ["filters"], alpha=5)
    with pytest.raises(ValueError, match="claims repeat a key"):
        ablation.bonferroni_judgements([filters, filters], correct, study, ["filters"])
    with pytest.raises(TypeError, match="sequence of claim keys"):
        ablation.bonferroni_judgements([filters], correct, study, "filters")


def test_a_claim_without_its_seed_0_run_says_how_to_make_it():
    study = [ablation.Ablation("b1", "improved", 1, "b", "baseline seed 1", 15, True)]
    with pytest.raises(ValueError, match="--config improved --epochs 15 --seed 0 --validation"):
        ablation.runs_of("improved", study)


def test_missing_recipes_and_worded_verdicts():
    study = [ablation.Ablation("b0", "improved", 0, "b", "baseline", 15, True)]
    claim = next(c for c in ablation.CLAIMS if c.key == "bn")
    assert ablation.missing_recipes(claim, study) == ["no_bn"]
    assert ablation.missing_recipes(claim, [*study, ablation.Ablation("n", "no_bn", 0, "n", "", 15, True)]) == []
    assert ablation.worded_verdict("supported", 0.2, 1.1) == "supported at this budget"
    assert ablation.worded_verdict("not detectable", -0.32, 0.716) == (
        "not detectable at this budget (interval -0.32 to +0.72 points)"
    )
    with pytest.raises(ValueError, match="unknown verdict"):
        ablation.worded_verdict("likely", 0.1, 0.6)


def test_planned_run_is_the_study_command_for_a_recipe():
    assert ablation.planned_run("full_res").command() == (
        "python -m googlenet train --config full_res --epochs 15 --seed 0 --validation --out results/full_res_val_15ep"
    )


def test_runs_of_refuses_mixed_budgets_and_repeated_seeds():
    mixed = [ablation.BUDGET_RUNS[0], ablation.BUDGET_RUNS[1]]  # 15 and 10 epochs of one recipe
    with pytest.raises(ValueError, match="different budgets"):
        ablation.runs_of("improved", mixed)
    twice = [ablation.VALIDATION_STUDY[0], ablation.VALIDATION_STUDY[0]]
    with pytest.raises(ValueError, match="twice"):
        ablation.runs_of("improved", twice)


def test_followup_claims_compare_registered_recipes_with_the_baseline():
    from googlenet import followups

    assert len({c.key for c in followups.FOLLOWUP_CLAIMS}) == len(followups.FOLLOWUP_CLAIMS)
    for claim in followups.FOLLOWUP_CLAIMS:
        assert {claim.better, claim.worse} <= set(recipes.RECIPES) and claim.worse == "improved"
        assert recipes.get(claim.better).epochs == recipes.IMPROVED.epochs
    assert [a.seed for a in ablation.runs_of("improved", followups.FOLLOWUP_STUDY)] == [0, 1, 2]
    run = followups.followup("ema", "EMA", "weights averaged")
    assert run.run == f"ema_val_{ablation.STUDY_EPOCHS}ep" and run.validation and run.label == "EMA"
    again = followups.followup("separable", "separable", "separable modules", seed=2)
    assert again.run == f"separable_val_{ablation.STUDY_EPOCHS}ep_seed2" and again.label == "separable, seed 2"
    assert again.command().endswith(f"--seed 2 --validation --out results/{again.run}")
    with pytest.raises(ValueError, match="seed is 0 or more"):
        followups.followup("separable", "separable", "separable modules", seed=-1)


def test_the_heads_experiment_plans_every_arm_and_seed_with_its_command():
    planned = {(a.config, a.seed): a for a in ablation.HEADS_PLANNED}
    assert set(planned) == {(c, s) for c in ablation.HEADS_CONFIGS for s in ablation.HEADS_SEEDS}
    first = planned[("heads", 0)]
    assert first.run == f"heads_val_{recipes.HEADS_EPOCHS}ep" and planned[("no_heads", 2)].run.endswith("_seed2")
    assert first.command() == (
        f"python -m googlenet train --config heads --epochs {recipes.HEADS_EPOCHS} --seed 0 --validation "
        f"--out results/heads_val_{recipes.HEADS_EPOCHS}ep"
    )
    assert first.recipe().validation_per_class == 500 and first.recipe().gradient_probe > 0
    for claim in ablation.HEADS_CLAIMS:
        assert {claim.better, claim.worse} <= set(ablation.HEADS_CONFIGS)
        assert len(ablation.runs_of(claim.better, ablation.HEADS_PLANNED)) == len(ablation.HEADS_SEEDS)
    assert set(ablation.HEADS_STUDY) <= set(ablation.HEADS_PLANNED)
    with pytest.raises(ValueError, match="unknown arm 'improved' of the heads experiment"):
        ablation.heads_run("improved", 0)


def test_seed_pair_tests_pair_equal_seeds_only():
    study = [
        ablation.Ablation("b0", "improved", 0, "b", "baseline", 15, True),
        ablation.Ablation("b1", "improved", 1, "b", "baseline seed 1", 15, True),
        ablation.Ablation("b2", "improved", 2, "b", "baseline seed 2", 15, True),
        ablation.Ablation("w0", "wide", 0, "w", "wide", 15, True),
        ablation.Ablation("w2", "wide", 2, "w", "wide seed 2", 15, True),
    ]
    right = np.ones(100, bool)
    half = np.arange(100) < 50
    claim = next(c for c in ablation.CLAIMS if c.key == "filters")  # wide beats improved
    correct = {"w0": right, "w2": half, "b0": half, "b1": right, "b2": right}
    pairs = ablation.seed_pair_tests(claim, correct, study)
    assert [p["seed"] for p in pairs] == [0, 2]  # seed 1 has no wide run to pair with
    assert (pairs[0]["only_better"], pairs[0]["only_worse"]) == (50, 0) and pairs[0]["effect"] == 50
    assert (pairs[1]["only_better"], pairs[1]["only_worse"]) == (0, 50) and pairs[1]["effect"] == -50
    assert pairs[0]["p_value"] < 1e-10 and pairs[0]["p_value"] == pairs[1]["p_value"]
    with pytest.raises(KeyError, match="b2"):
        ablation.seed_pair_tests(claim, {k: v for k, v in correct.items() if k != "b2"}, study)
