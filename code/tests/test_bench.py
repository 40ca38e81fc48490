"""The benchmark's arithmetic and its study-note pipeline (timings themselves are never asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from googlenet import bench, training


def _row(name: str, model: str, ips: float) -> dict:
    spec = next(r for r in bench.ROWS if r.name == name)
    return {
        **spec.__dict__,
        "images_per_second": ips,
        "macs_per_image": 1_000_000 if model == "improved" else 5,
    }


def _rows() -> list[dict]:
    return [
        _row("note_pipeline", "improved", 100.0),
        _row("tfdata", "improved", 150.0),
        _row("tfdata_onednn", "improved", 240.0),
        _row("book", "improved", 300.0),
        _row("book_fixed_batch", "improved", 400.0),
    ]


def test_summary_ratios_and_gflops():
    summary = bench.summarise(_rows(), {"gflops": 100.0, "n": 8}, {"images_per_second": 2000.0})
    assert summary["speedup"] == pytest.approx(3.0)
    assert summary["steps"]["tfdata_onednn"] == pytest.approx(2.4)
    # 3 x forward, 2 FLOPs per multiply-add: 6 * 1e6 * 300 / 1e9
    assert summary["training_gflops"] == pytest.approx(1.8)
    assert summary["utilisation"] == pytest.approx(0.018)
    assert summary["utilisation_fixed_batch"] == pytest.approx(6 * 1e6 * 400 / 1e9 / 100)
    assert "writeup_model_speedup" not in summary
    rows = _rows() + [
        _row("writeup_note_pipeline", "writeup", 50.0),
        _row("writeup_book_pipeline", "writeup", 60.0),
    ]
    assert bench.summarise(rows, {"gflops": 100.0}, {"images_per_second": 1.0})["writeup_model_speedup"] == 1.2


def test_bf16_rows_are_compared_with_float32_and_with_the_bf16_matmul_rate():
    rows = _rows() + [_row("book_bf16", "improved", 450.0), _row("book_fixed_batch_bf16", "improved", 800.0)]
    summary = bench.summarise(rows, {"gflops": 100.0}, {"images_per_second": 1.0}, {"gflops": 400.0})
    assert summary["bf16_speedup"] == pytest.approx(1.5)
    assert summary["bf16_speedup_fixed_batch"] == pytest.approx(2.0)
    assert summary["utilisation_bf16"] == pytest.approx(6 * 1e6 * 450 / 1e9 / 400)
    assert summary["utilisation_bf16_fixed_batch"] == pytest.approx(6 * 1e6 * 800 / 1e9 / 400)
    assert "bf16_speedup" not in bench.summarise(_rows(), {"gflops": 100.0}, {"images_per_second": 1.0})
    assert {r.precision for r in bench.ROWS if r.name.endswith("_bf16")} == {"mixed_bfloat16"}


def test_the_bf16_matmul_runs_in_bfloat16():
    from googlenet import throughput

    result = throughput.matmul_gflops(n=64, windows=1, repeats=1, dtype="bfloat16")
    assert result["dtype"] == "bfloat16" and result["gflops"] > 0


def test_table_lists_every_row_and_the_headline_figures():
    rows = _rows()
    result = {
        "rows": rows,
        "matmul": {"n": 8, "gflops": 100.0},
        "inference": {"model": "m.keras"},
        "summary": bench.summarise(rows, {"gflops": 100.0, "n": 8}, {"images_per_second": 2000.0}),
    }
    table = bench.format_table(result)
    for row in rows:
        assert row["name"] in table
    assert "3.00x" in table and "2000 images/s" in table and "1.8%" in table


def test_quick_rows_exist_and_every_row_is_distinct():
    names = [row.name for row in bench.ROWS]
    assert len(set(names)) == len(names)
    assert set(bench.QUICK_ROWS) <= set(names) and set(bench.PROFILED_ROWS) <= set(names)


def test_note_pipeline_keeps_labels_and_shapes():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (20, 28, 28)).astype("uint8")
    labels = np.arange(20) % 10
    batches = training.note_pipeline_batches(images, labels, batch_size=8, seed=0)
    x, y = next(iter(batches))
    assert x.shape == (8, 28, 28, 1) and y.shape == (8, 10)
    assert x.min() >= 0 and x.max() <= 255
    # every augmented image is a shifted/flipped original: its label one-hot matches one of them
    assert set(np.argmax(y, axis=1)) <= set(labels)
    assert len(batches) == 3  # 20 images in batches of 8


def test_bad_benchmark_name_is_refused(tmp_path):
    with pytest.raises(ValueError, match="plain file name"):
        bench.run_benchmark("../x", quick=True, out_dir=tmp_path)


def test_benchmark_finds_the_shipped_model_from_any_folder_or_says_it_is_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert bench.benchmarks_dir() == Path(__file__).resolve().parents[2] / "results" / "benchmarks"
    monkeypatch.setenv("GOOGLENET_RESULTS", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="shipped improved model"):
        bench.run_benchmark("quick", quick=True, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_existing_result_is_never_replaced_unless_asked(tmp_path):
    (tmp_path / "quick.json").write_text("{}")
    with pytest.raises(ValueError, match="exists and the book's figures read it: nothing was changed"):
        bench.run_benchmark("quick", quick=True, out_dir=tmp_path)
    assert (tmp_path / "quick.json").read_text() == "{}"


def test_killing_the_benchmark_leaves_no_orphan_child(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    parent = subprocess.Popen(
        [sys.executable, "-m", "googlenet", "bench", "--quick", "--out", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def children() -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            try:
                stat = open(f"/proc/{entry}/stat").read()
                cmdline = open(f"/proc/{entry}/cmdline").read()
            except (OSError, ValueError):
                continue
            if (
                entry.isdigit()
                and "googlenet.throughput" in cmdline
                and int(stat.rsplit(")", 1)[1].split()[1]) == parent.pid
            ):
                found.append(int(entry))
        return found

    try:
        deadline = time.monotonic() + 60
        while not children() and time.monotonic() < deadline:
            time.sleep(0.2)
        child = children()
        assert child, "the benchmark never started its measuring process"
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 20
    while os.path.exists(f"/proc/{child[0]}") and time.monotonic() < deadline:
        time.sleep(0.2)
        try:
            os.waitpid(child[0], os.WNOHANG)  # not ours to reap, but harmless if it is a zombie of init
        except ChildProcessError:
            pass
    state = (
        open(f"/proc/{child[0]}/stat").read().rsplit(")", 1)[1].split()[0]
        if os.path.exists(f"/proc/{child[0]}")
        else "gone"
    )
    assert state in ("gone", "Z"), f"the measuring process {child[0]} outlived the benchmark (state {state})"


COMMITTED = sorted(  # the full benchmarks (thread studies: test_thread_scaling)
    p
    for p in (Path(__file__).resolve().parents[2] / "results" / "benchmarks").glob("*.json")
    if "rows" in json.loads(p.read_text())
)


@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
def test_committed_benchmark_follows_from_its_windows(path: Path) -> None:
    """Each committed JSON's medians are its timed windows' medians, and its summary follows from them."""
    import statistics

    result = json.loads(path.read_text())
    assert result["name"] == path.stem and not result["quick"]
    for measured in [*result["rows"], result["matmul"], result["matmul_bf16"], result["inference"]]:
        rate = "gflops" if "gflops" in measured else "images_per_second"
        assert measured[rate] == statistics.median(measured[f"window_{rate}"])
    assert result["summary"] == bench.summarise(
        result["rows"], result["matmul"], result["inference"], result["matmul_bf16"]
    )


def test_both_machines_are_committed() -> None:
    """The appendix compares an AMD EPYC and an Intel Xeon run of the full benchmark."""
    assert {p.stem for p in COMMITTED} >= {"full", "full_xeon"}


def test_onednn_default_rule_reads_the_cpu_flags():
    assert bench.onednn_default_by_flags({"avx2", "avx512_bf16"})
    assert bench.onednn_default_by_flags({"amx_tile"})
    assert not bench.onednn_default_by_flags({"avx2", "avx512f", "fma"})
    assert not bench.onednn_default_by_flags(set())


@pytest.mark.skipif(not Path("/proc/cpuinfo").exists(), reason="the rule is TensorFlow's Linux rule")
def test_tensorflow_chooses_onednn_by_the_cpu_flags_rule():
    # What the appendix states about TensorFlow's default, checked on whatever CPU runs the tests.
    from googlenet.precision import read_cpu_flags

    assert bench.tensorflow_onednn_default() == bench.onednn_default_by_flags(read_cpu_flags())
