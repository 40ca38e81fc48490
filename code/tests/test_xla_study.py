"""The XLA study's rows and arithmetic (timings themselves are never asserted)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from googlenet import bench, throughput, xla_study


def _row(windows: list[float], warmup: float) -> dict:
    return {
        "images_per_second": statistics.median(windows),
        "window_images_per_second": windows,
        "warmup_seconds": warmup,
    }


def _rounds() -> list[dict[str, dict]]:
    return [
        {
            "book_fixed_batch": _row([100.0, 110.0, 120.0], 2.0),
            "book_fixed_batch_xla": _row([80.0, 90.0, 100.0], 30.0),
            "keras_fixed_batch": _row([70.0, 75.0, 80.0], 2.5),
            "keras_fixed_batch_xla": _row([60.0, 70.0, 80.0], 40.0),
        },
        {
            "book_fixed_batch": _row([90.0, 95.0, 100.0], 4.0),
            "book_fixed_batch_xla": _row([95.0, 100.0, 105.0], 50.0),
            "keras_fixed_batch": _row([70.0, 72.0, 74.0], 3.5),
            "keras_fixed_batch_xla": _row([50.0, 60.0, 70.0], 60.0),
        },
    ]


def test_the_rows_pair_each_kind_of_layers_with_and_without_xla():
    rows = {r.name: r for r in (*bench.ROWS, *bench.XLA_ROWS)}
    for plain, xla in xla_study.PAIRS.values():
        assert not rows[plain].jit and rows[xla].jit
        # The pair differs in XLA alone: same model, pipeline, layers, oneDNN and precision.
        assert {k: v for k, v in vars(rows[plain]).items() if k not in ("name", "label", "jit")} == {
            k: v for k, v in vars(rows[xla]).items() if k not in ("name", "label", "jit")
        }
    assert rows["book_fixed_batch"].fast_layers and not rows["keras_fixed_batch"].fast_layers
    assert not any(r.jit for r in bench.ROWS)  # the full benchmark times the book's step, without XLA
    assert set(xla_study.order()) <= set(throughput.known_tasks())


def test_summary_pools_the_windows_of_every_round():
    summary = xla_study.summarise(_rounds())
    fused, keras = summary["kinds"]["fused"], summary["kinds"]["keras"]
    assert fused["images_per_second"] == statistics.median([100, 110, 120, 90, 95, 100])  # 100.0
    assert fused["xla_images_per_second"] == statistics.median([80, 90, 100, 95, 100, 105])  # 97.5
    assert fused["xla_speedup"] == pytest.approx(0.975)
    assert fused["xla_speedup_per_round"] == pytest.approx([90 / 110, 100 / 95])
    assert not fused["xla_slower_every_round"] and not fused["xla_faster_every_round"]
    assert keras["xla_speedup_per_round"] == pytest.approx([70 / 75, 60 / 72])
    assert keras["xla_slower_every_round"]
    assert fused["warmup_seconds"] == 3.0 and fused["xla_warmup_seconds"] == 40.0
    assert summary["fastest"] == "book_fixed_batch" and summary["rounds"] == 2
    assert summary["fused_over_keras_xla"] == pytest.approx(100 / 65)  # median of 50-80: 65


def test_a_round_missing_a_row_is_refused_by_name():
    rounds = _rounds()
    del rounds[1]["keras_fixed_batch_xla"]
    with pytest.raises(ValueError, match=r"missing \['keras_fixed_batch_xla'\]"):
        xla_study.summarise(rounds)
    with pytest.raises(ValueError, match="at least one measured round"):
        xla_study.summarise([])


def test_table_names_every_kind_and_the_fastest_row():
    rounds = _rounds()
    table = xla_study.format_table({"summary": xla_study.summarise(rounds)})
    assert "fused" in table and "keras" in table and "0.97x" in table and "0.82, 1.05" in table
    assert "fastest: book_fixed_batch (100.0 images/s" in table


def test_the_child_compiles_the_step_with_xla():
    """A real child process trains the XLA row: a finite loss, its warm-up (and compile) timed apart."""
    (row,) = bench.run_children(["book_fixed_batch_xla"], True, True)
    assert row["jit"] is True and row["fast_layers"] is True and row["loss_is_finite"]
    assert row["warmup_seconds"] > 0 and len(row["window_images_per_second"]) == 3


def test_threads_and_xla_together_are_refused():
    done = subprocess.run(
        [sys.executable, "-m", "googlenet", "bench", "--threads", "--xla"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "--threads and --xla are two studies" in done.stderr


def test_an_existing_study_is_never_replaced_unless_asked(tmp_path):
    (tmp_path / "xla.json").write_text("{}")
    with pytest.raises(ValueError, match="exists and the book's figures read it: nothing was changed"):
        xla_study.run_xla_study("xla", quick=True, out_dir=tmp_path)
    assert (tmp_path / "xla.json").read_text() == "{}"


COMMITTED = sorted(
    p
    for p in (Path(__file__).resolve().parents[2] / "results" / "benchmarks").glob("*.json")
    if "rounds" in json.loads(p.read_text())
)


@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
def test_committed_xla_study_follows_from_its_windows(path: Path) -> None:
    result = json.loads(path.read_text())
    assert result["name"] == path.stem and not result["quick"]
    for measured in result["rounds"]:
        for name, row in measured.items():
            assert row["name"] == name and row["images_per_second"] == statistics.median(
                row["window_images_per_second"]
            )
            assert row["loss_is_finite"] and row["onednn_active"]
    assert result["summary"] == xla_study.summarise(result["rounds"])


def test_an_xla_study_is_committed() -> None:
    assert COMMITTED, "chapter 7 and the appendix read a committed XLA study (python -m googlenet bench --xla)"
