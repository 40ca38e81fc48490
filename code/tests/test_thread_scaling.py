"""The thread study's settings and arithmetic (timings themselves are never asserted)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from googlenet import thread_scaling


def _measured(
    name: str, intra: int, inter: int, ips: float, gflops: float, idle: float | None = None, bf16: bool = False
) -> dict:
    profile = None
    if idle is not None:
        profile = {
            "ms_per_step_by_op": {
                "IDLE": idle,
                "Conv2D": 30.0 - idle,
                "Conv2DBackpropFilter": 60.0,
                "FusedBatchNormEx": 4.0,
                "ReluGrad": 6.0,
            },
            "batch_norm_elements_per_image": 1000,
            "batch_size": 10,
        }
    return {
        "name": name,
        "intra_op": intra,
        "inter_op": inter,
        "deterministic": name.endswith("deterministic"),
        "label": name,
        "row": {"images_per_second": ips},
        "matmul": {"gflops": gflops},
        "stream": {"gb_per_s": gflops / 10},
        "profile": profile,
    } | ({"row_bf16": {"images_per_second": 2 * ips}, "matmul_bf16": {"gflops": 4 * gflops}} if bf16 else {})


def _study() -> list[dict]:
    return [
        _measured("one_thread", 1, 1, 100.0, 50.0, idle=0.0),
        _measured("ops_side_by_side", 1, 2, 180.0, 50.0),
        _measured("ops_split", 2, 1, 170.0, 95.0),
        _measured("default", 0, 0, 150.0, 100.0, idle=25.0),
        _measured("default_deterministic", 0, 0, 120.0, 100.0),
        _measured("default_no_remapper", 0, 0, 165.0, 100.0),
    ]


def test_settings_cover_one_core_and_all_of_them():
    chosen = thread_scaling.settings(4)
    assert [s.name for s in chosen] == [
        "one_thread",
        "ops_side_by_side",
        "ops_split",
        "default",
        "default_deterministic",
        "default_no_remapper",
    ]
    assert [(s.intra_op, s.inter_op) for s in chosen] == [(1, 1), (1, 4), (4, 1), (0, 0), (0, 0), (0, 0)]
    assert [s.one_core for s in chosen] == [True, False, False, False, False, False]
    assert [s.deterministic for s in chosen] == [False, False, False, False, True, False]
    assert [s.remapper for s in chosen] == [True, True, True, True, True, False]


def test_one_core_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="compares one core with several, but this process may use 1: run it"):
        thread_scaling.settings(1)


def test_summary_uses_the_matmul_rate_of_the_cores_in_use():
    summary = thread_scaling.summarise(_study(), macs_per_image=1_000_000)
    per = summary["settings"]
    # 3 x forward, 2 FLOPs per multiply-add: 6e6 FLOPs per image
    assert per["one_thread"]["training_gflops"] == pytest.approx(0.6)
    assert per["one_thread"]["utilisation"] == pytest.approx(0.6 / 50.0)  # one thread's matmul
    assert per["ops_side_by_side"]["utilisation"] == pytest.approx(6e6 * 180 / 1e9 / 100.0)  # the default's
    assert per["ops_split"]["vs_default"] == pytest.approx(170 / 150)
    assert per["default"]["idle_share"] == pytest.approx(0.25)
    assert per["ops_split"]["idle_share"] is None and per["ops_split"]["batch_norm"] is None
    # 5 passes x 4 bytes x 1,000 values x 10 images in the 4 ms of the batch-norm kernel alone
    assert per["default"]["batch_norm"]["ms"] == 4.0
    assert per["default"]["batch_norm"]["gb_per_s_at_least"] == pytest.approx(200_000 / 0.004 / 1e9)
    assert per["default"]["stream_gb_per_s"] == 10.0
    assert summary["step_scaling"] == pytest.approx(1.5)
    assert summary["matmul_scaling"] == pytest.approx(2.0)
    assert summary["fastest"] == "ops_side_by_side"
    assert summary["determinism_slowdown"] == pytest.approx(150 / 120)
    assert summary["no_remapper_speedup"] == pytest.approx(165 / 150)


def test_bf16_is_compared_with_float32_in_the_same_setting_and_with_the_bf16_matmul():
    measured = [
        _measured("one_thread", 1, 1, 100.0, 50.0, bf16=True),
        _measured("default", 0, 0, 150.0, 100.0, bf16=True),
        _measured("ops_split", 2, 1, 170.0, 95.0),  # no bfloat16 rows: none reported
    ]
    per = thread_scaling.summarise(measured, macs_per_image=1_000_000)["settings"]
    assert per["default"]["bf16_speedup"] == pytest.approx(2.0)
    assert per["default"]["bf16_utilisation"] == pytest.approx(6e6 * 300 / 1e9 / 400.0)
    assert per["one_thread"]["bf16_utilisation"] == pytest.approx(6e6 * 200 / 1e9 / 200.0)
    assert "bf16_speedup" not in per["ops_split"]


def test_the_all_core_utilisation_factors_into_one_core_and_scaling():
    summary = thread_scaling.summarise(_study(), macs_per_image=1_000_000)
    assert summary["utilisation"] == pytest.approx(
        summary["single_core_utilisation"] * summary["step_scaling"] / summary["matmul_scaling"]
    )


def test_a_study_without_its_reference_settings_is_refused():
    with pytest.raises(ValueError, match=r"needs the settings \['one_thread'\]"):
        thread_scaling.summarise(_study()[1:], macs_per_image=1)


def test_table_lists_every_setting():
    measured = _study()
    result = {"settings": measured, "cores": 2, "summary": thread_scaling.summarise(measured, 1_000_000)}
    table = thread_scaling.format_table(result)
    for m in measured:
        assert m["name"] in table
    assert "step 1.50x, matmul 2.00x" in table and "fastest setting: ops_side_by_side" in table


def test_a_negative_thread_count_is_refused_before_tensorflow_loads():
    done = subprocess.run(
        [sys.executable, "-m", "googlenet.throughput", "matmul", "--intra-op", "-1"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "--intra-op must be 0 (TensorFlow's choice) or a thread count" in done.stderr


def test_the_child_applies_the_thread_settings_and_determinism():
    """A real child process: the row it times reports the pools and determinism it ran with."""
    from googlenet import bench

    (row,) = bench.run_children(["book_fixed_batch"], True, True, threads=(1, 2), deterministic=True, remapper=False)
    assert row["threads"] == {"intra_op": 1, "inter_op": 2} and row["deterministic"] is True
    assert row["remapper"] is False
    assert row["loss_is_finite"]


def test_an_existing_study_is_never_replaced_unless_asked(tmp_path):
    (tmp_path / "threads.json").write_text("{}")
    with pytest.raises(ValueError, match="exists and the book's figures read it: nothing was changed"):
        thread_scaling.run_thread_study("threads", quick=True, out_dir=tmp_path)
    assert (tmp_path / "threads.json").read_text() == "{}"


COMMITTED = sorted(
    p
    for p in (Path(__file__).resolve().parents[2] / "results" / "benchmarks").glob("*.json")
    if "settings" in json.loads(p.read_text())
)


@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
def test_committed_thread_study_follows_from_its_windows(path: Path) -> None:
    result = json.loads(path.read_text())
    assert result["name"] == path.stem and not result["quick"]
    for measured in result["settings"]:
        for key in ("row", "row_bf16"):
            if key in measured:
                assert measured[key]["images_per_second"] == statistics.median(
                    measured[key]["window_images_per_second"]
                )
        for key in ("matmul", "matmul_bf16"):
            if key in measured:
                assert measured[key]["gflops"] == statistics.median(measured[key]["window_gflops"])
        assert measured["stream"]["gb_per_s"] == statistics.median(measured["stream"]["window_gb_per_s"])
        threads = measured["row"]["threads"]
        assert (threads["intra_op"], threads["inter_op"]) == (measured["intra_op"], measured["inter_op"])
        assert measured["row"]["deterministic"] == measured["deterministic"]
        assert measured["row"].get("remapper", True) == measured.get("remapper", True)
    recomputed = thread_scaling.summarise(result["settings"], result["settings"][0]["row"]["macs_per_image"])
    assert _close(result["summary"], recomputed)  # the last digit may differ: sums in another order


def _close(a, b) -> bool:
    """Equal structures whose floats agree to 12 significant digits."""
    import math

    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12)
    return a == b


def test_a_thread_study_is_committed() -> None:
    assert COMMITTED, "the appendix reads a committed thread study (python -m googlenet bench --threads)"


def test_profile_groups_put_the_fused_batch_norm_with_batch_norm():
    from googlenet import profile

    groups = profile.group_op_times(
        {"_MklNativeFusedBatchNormEx": 1.0, "FusedBatchNormEx": 2.0, "ReluGrad": 3.0, "IDLE": 4.0, "Foo": 5.0}
    )
    # _plain_op_name strips oneDNN's prefixes before grouping; grouping itself takes plain names
    assert groups["batch norm and element-wise"] == 5.0 and groups["idle threads"] == 4.0
    assert groups["other"] == 6.0 and sum(groups.values()) == 15.0


def test_batch_norm_elements_count_every_normalised_value():
    import keras

    from googlenet import fused, profile

    inputs = keras.Input((6, 6, 3))
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)  # 6x6x4 = 144
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Conv2D(2, 3, strides=2, padding="same")(x)  # 3x3x2 = 18
    x = fused.FusedBatchNormalization()(x)
    model = keras.Model(inputs, x)
    assert profile.batch_norm_elements(model) == 144 + 18


def test_one_core_bounds_follow_from_the_profile():
    profile = {
        "ms_per_step_by_op": {"Conv2D": 10.0, "Conv2DBackpropInput": 20.0, "FusedBatchNormEx": 40.0, "MaxPool": 30.0},
        "batch_norm_elements_per_image": 1000,
        "batch_size": 10,
    }
    # forward: 2 x 1e6 MACs x 10 images = 0.02 GFLOP; the matmul runs 10 GFLOP/s
    bounds = thread_scaling.one_core_bounds(profile, 1_000_000, matmul_gflops=10.0, stream_gb_per_s=0.1)
    assert bounds["step_ms"] == 100.0 and bounds["shares"]["batch norm and element-wise"] == 0.4
    assert bounds["utilisation"] == pytest.approx(0.06 / 0.1 / 10)
    assert bounds["convolution_forward"] == pytest.approx(0.02 / 0.01 / 10)
    assert bounds["convolution_backward"] == pytest.approx(0.04 / 0.02 / 10)
    assert bounds["if_only_convolutions"] == pytest.approx(0.06 / 0.03 / 10)
    # batch norm: 5 passes x 4 bytes x 1e4 values = 2e5 bytes; streamed at 0.1 GB/s = 2 ms instead of 40
    assert bounds["batch_norm_share_of_stream"] == pytest.approx((2e5 / 0.04 / 1e9) / 0.1)
    assert bounds["if_batch_norm_streamed"] == pytest.approx(0.06 / 0.062 / 10)
    # convolutions at 10 GFLOP/s: 0.06 GFLOP in 6 ms instead of 30, the rest (70 ms) unchanged
    assert bounds["if_convolutions_at_matmul"] == pytest.approx(0.06 / 0.076 / 10)
    del profile["ms_per_step_by_op"]["FusedBatchNormEx"]
    plain = thread_scaling.one_core_bounds(profile, 1_000_000, matmul_gflops=10.0, stream_gb_per_s=0.1)
    assert plain["batch_norm_share_of_stream"] is None and plain["if_batch_norm_streamed"] is None


def test_the_command_refuses_an_existing_study_and_changes_nothing(tmp_path, capsys):
    from googlenet.__main__ import main

    (tmp_path / "mine.json").write_text("{}")
    assert main(["bench", "--threads", "--name", "mine", "--out", str(tmp_path)]) == 2
    assert "pass --overwrite to replace it" in capsys.readouterr().err
    assert (tmp_path / "mine.json").read_text() == "{}"


def test_one_core_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(thread_scaling, "available_cores", lambda: 1)
    with pytest.raises(ValueError, match="at least two"):
        thread_scaling.run_thread_study("threads", quick=True, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_unknown_task_is_refused_with_the_known_ones():
    done = subprocess.run(
        [sys.executable, "-m", "googlenet.throughput", "matmul,nonsense"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "unknown task(s) nonsense: choose from" in done.stderr
    assert "profile:book" in done.stderr
