"""Training runs: resume, read-only finished runs, refusals, locks, and the command line.

The command-line tests start real processes (and kill some with real signals) on the real
Fashion-MNIST, trained on a stratified subset so that each run takes seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import pytest

from googlenet import data, evaluate, paths, provenance, recipes, run_folder, runs
from googlenet.run_folder import HISTORY, METADATA, MODEL, STATE, RunFinished, RunFolderError

HAVE_DATA = data.SYSTEM_DIR.is_dir() or bool(os.environ.get(data.ENV_VAR))
needs_data = pytest.mark.skipif(not HAVE_DATA, reason="needs Fashion-MNIST (apt-get install dataset-fashion-mnist)")


def tiny_recipe(epochs=3, **changes):
    small = recipes.IMPROVED.model_args | {"num_modules": 2, "width": 0.5}
    return replace(recipes.IMPROVED, epochs=epochs, batch_size=16, model_args=small, **changes)


def quiet(message):
    pass


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*")}


def cli(*args, env=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "googlenet", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=(os.environ | (env or {})),
    )


# ------------------------------------------------------------------------------ in-process runs


def test_resume_after_interruption_equals_uninterrupted_run(tiny, tmp_path):
    recipe = tiny_recipe()
    whole = runs.train_run(recipe, tmp_path / "whole", tiny, progress=False, log=quiet)
    stopped = runs.train_run(recipe, tmp_path / "split", tiny, progress=False, stop_after=1, log=quiet)
    assert stopped == {"interrupted_after_epoch": 1}
    assert json.loads((tmp_path / "split" / STATE).read_text())["completed_epochs"] == 1
    resumed = runs.train_run(recipe, tmp_path / "split", tiny, progress=False, log=quiet)
    h_whole = json.loads((tmp_path / "whole" / HISTORY).read_text())
    h_split = json.loads((tmp_path / "split" / HISTORY).read_text())
    assert [r["epoch"] for r in h_split] == [1, 2, 3] == [r["epoch"] for r in h_whole]
    assert [r["train_loss"] for r in h_split] == [r["train_loss"] for r in h_whole]
    a = keras.models.load_model(tmp_path / "whole" / MODEL)
    b = keras.models.load_model(tmp_path / "split" / MODEL)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert resumed["test_accuracy"] == whole["test_accuracy"]
    meta = json.loads((tmp_path / "whole" / METADATA).read_text())
    for key in ("config", "run_config", "epochs", "batch_size", "seed", "test_accuracy", "params", "train_seconds"):
        assert key in meta
    for key in ("images_per_second", "git_commit", "versions", "machine", "train_images"):
        assert key in meta
    assert meta["test_accuracy"] == evaluate.accuracy(a, tiny.x_test, tiny.y_test)
    assert meta["run_config"] == recipe.record()
    # Both calls ran the same code on the same machine: one segment covering every epoch.
    assert all("git_commit" in row and "machine" in row for row in h_split)
    assert [(s["first_epoch"], s["last_epoch"]) for s in resumed["segments"]] == [(1, 3)]
    # The checkpoints kept are the last two epochs only; no lock holder is left behind.
    kept = sorted({p.name.split(".")[0] for p in (tmp_path / "whole" / "checkpoints").iterdir()})
    assert kept == ["epoch-0002", "epoch-0003"]
    assert not [p for p in (tmp_path / "whole").iterdir() if p.name.endswith((".tmp", ".partial.keras"))]


def test_a_run_with_a_weight_average_and_label_smoothing_resumes_exactly(tiny, tmp_path):
    recipe = tiny_recipe(epochs=2, label_smoothing=0.1, ema_decay=0.9)
    whole = runs.train_run(recipe, tmp_path / "whole", tiny, progress=False, log=quiet)
    runs.train_run(recipe, tmp_path / "split", tiny, progress=False, stop_after=1, log=quiet)
    resumed = runs.train_run(recipe, tmp_path / "split", tiny, progress=False, log=quiet)  # averages restored
    a = keras.models.load_model(tmp_path / "whole" / MODEL)
    b = keras.models.load_model(tmp_path / "split" / MODEL)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert resumed["test_accuracy"] == whole["test_accuracy"] == evaluate.accuracy(a, tiny.x_test, tiny.y_test)
    assert whole["run_config"]["ema_decay"] == 0.9 and whole["run_config"]["label_smoothing"] == 0.1
    # the last epoch's test score is the saved (averaged) model's
    history = json.loads((tmp_path / "whole" / HISTORY).read_text())
    assert history[-1]["test_accuracy"] == pytest.approx(whole["test_accuracy"], abs=1e-6)


def test_writeup_recipe_runs_end_to_end(tiny, tmp_path):
    recipe = replace(recipes.WRITEUP, epochs=1, batch_size=20, model_args={"filters": 4, "num_blocks": 1})
    meta = runs.train_run(recipe, tmp_path / "w", tiny, progress=False, log=quiet)
    model = keras.models.load_model(tmp_path / "w" / MODEL, safe_mode=True)
    assert meta["test_accuracy"] == evaluate.accuracy(model, tiny.x_test, tiny.y_test)
    assert meta["params"] == model.count_params() and meta["multiply_adds"] > 0


def test_aux_recipe_trains_end_to_end_and_ships_the_main_head_only(tiny, tmp_path):
    args = recipes.DEEP_AUX.model_args | {"num_modules": 6, "width": 0.25}
    recipe = replace(recipes.DEEP_AUX, epochs=1, batch_size=10, model_args=args)
    meta = runs.train_run(recipe, tmp_path / "a", tiny, progress=False, log=quiet)
    model = keras.models.load_model(tmp_path / "a" / MODEL, safe_mode=True)
    assert len(model.outputs) == 1 and model.output.shape[1:] == (10,)
    assert meta["test_accuracy"] == evaluate.accuracy(model, tiny.x_test, tiny.y_test)


def test_finished_run_is_read_only(tiny, tmp_path):
    out = tmp_path / "done"
    runs.train_run(tiny_recipe(epochs=1), out, tiny, progress=False, log=quiet)
    before = snapshot(out)
    with pytest.raises(RunFinished, match=r"finished run \(1 epochs\): nothing was changed"):
        runs.train_run(tiny_recipe(epochs=1), out, tiny, progress=False, log=quiet)
    with pytest.raises(RunFinished, match="cosine schedule was fixed"):
        run_folder.check_output_dir(out, tiny_recipe(epochs=1))
    with pytest.raises(RunFolderError, match="would change the schedule"):  # even when asked to extend
        runs.train_run(tiny_recipe(epochs=2), out, tiny, extend=True, progress=False, log=quiet)
    assert snapshot(out) == before


def test_constant_rate_run_extends_only_when_asked(tiny, tmp_path):
    out = tmp_path / "const"
    constant = tiny_recipe(epochs=1, schedule="constant", learning_rate=1e-3)
    runs.train_run(constant, out, tiny, progress=False, log=quiet)
    before = snapshot(out)
    with pytest.raises(RunFinished, match="pass --extend"):
        runs.train_run(replace(constant, epochs=2), out, tiny, progress=False, log=quiet)
    assert snapshot(out) == before
    meta = runs.train_run(replace(constant, epochs=2), out, tiny, extend=True, progress=False, log=quiet)
    assert meta["epochs"] == 2 and [r["epoch"] for r in json.loads((out / HISTORY).read_text())] == [1, 2]
    with pytest.raises(RunFinished, match="--epochs above 2"):
        run_folder.check_output_dir(out, replace(constant, epochs=1), extend=True)


def test_unfinished_run_refuses_a_new_epoch_count_without_extend(tiny, tmp_path):
    out = tmp_path / "half"
    constant = tiny_recipe(epochs=3, schedule="constant", learning_rate=1e-3)
    runs.train_run(constant, out, tiny, progress=False, stop_after=1, log=quiet)
    with pytest.raises(RunFolderError, match="pass --extend"):
        run_folder.check_output_dir(out, replace(constant, epochs=5))
    with pytest.raises(RunFolderError, match="would end before that"):
        run_folder.check_output_dir(out, replace(constant, epochs=1), extend=True)
    assert run_folder.check_output_dir(out, replace(constant, epochs=5), extend=True)["completed_epochs"] == 1


def test_folder_left_by_a_kill_in_the_first_epoch_starts_again(tiny, tmp_path):
    out = tmp_path / "killed"
    (out / "checkpoints").mkdir(parents=True)
    (out / "checkpoints" / "epoch-0001.data-00000-of-00001").write_bytes(b"half a checkpoint")
    (out / ".lock").write_text("process 1 on elsewhere\n")
    (out / ".history.json.abc.tmp").write_text("[{")
    (out / ".model.partial.keras").write_bytes(b"half a model")
    meta = runs.train_run(tiny_recipe(epochs=1), out, tiny, progress=False, log=quiet)
    assert meta["epochs"] == 1
    leftovers = [p.name for p in out.iterdir() if p.name.endswith((".tmp", ".partial.keras"))]
    assert leftovers == []
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "epoch-0001.data-00000-of-00001",
        "epoch-0001.index",
    ]


def test_damaged_state_names_the_file_and_changes_nothing(tmp_path):
    for content in ("", "{", '{"completed_epochs": 1}'):
        (tmp_path / STATE).write_text(content)
        with pytest.raises(RunFolderError, match=r"state.json is damaged .*Nothing was changed"):
            run_folder.check_output_dir(tmp_path, tiny_recipe())
        assert (tmp_path / STATE).read_text() == content


def test_refusing_other_settings_shows_both_values_and_changes_nothing(tiny, tmp_path):
    out = tmp_path / "run"
    runs.train_run(tiny_recipe(epochs=2), out, tiny, progress=False, stop_after=1, log=quiet)
    before = snapshot(out)
    with pytest.raises(RunFolderError, match="cannot resume as 'writeup'"):
        runs.train_run(replace(recipes.WRITEUP, epochs=2, batch_size=16), out, tiny, progress=False)
    with pytest.raises(RunFolderError, match="batch_size: the folder has 16, the command gives 32"):
        run_folder.check_output_dir(out, replace(tiny_recipe(epochs=2), batch_size=32))
    with pytest.raises(RunFolderError, match="train_per_class: the folder has None, the command gives 2"):
        run_folder.check_output_dir(out, tiny_recipe(epochs=2, train_per_class=2))
    assert snapshot(out) == before


def test_recorded_model_args_are_compared_with_defaults_filled_in(tiny, tmp_path):
    # Runs recorded before the recipe listed the builder's defaults still resume.
    out = tmp_path / "legacy"
    runs.train_run(tiny_recipe(epochs=2), out, tiny, progress=False, stop_after=1, log=quiet)
    state = json.loads((out / STATE).read_text())
    state["config"]["model_args"] = {"num_modules": 2, "width": 0.5}
    for key in ("builder", "optimizer", "shift_pixels", "flip", "aux_weight", "train_per_class"):
        del state["config"][key]
    (out / STATE).write_text(json.dumps(state))
    assert run_folder.check_output_dir(out, tiny_recipe(epochs=2))["completed_epochs"] == 1


def test_non_empty_folder_without_state_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RunFolderError, match=r"not empty \(notes.txt\)"):
        run_folder.check_output_dir(tmp_path, tiny_recipe())


def test_unwritable_folder_is_refused():
    # /proc refuses new files even to root, so this holds in CI too.
    with pytest.raises(RunFolderError, match="not writable"):
        run_folder.check_output_dir("/proc/googlenet-run", tiny_recipe())


def test_file_in_place_of_folder_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(RunFolderError, match="not a folder"):
        run_folder.check_output_dir(tmp_path / "f", tiny_recipe())


def test_batch_larger_than_the_training_set_is_refused_before_the_folder_exists(tiny, tmp_path):
    with pytest.raises(RunFolderError, match="--batch-size 64 is larger than the 40 training images"):
        runs.train_run(replace(tiny_recipe(), batch_size=64), tmp_path / "x", tiny, progress=False)
    assert not (tmp_path / "x").exists()


def test_a_locked_folder_is_refused_while_held_and_free_after_the_holder_dies(tiny, tmp_path):
    out = tmp_path / "locked"
    out.mkdir()
    hold = (
        "from googlenet.run_folder import FolderLock\nfrom pathlib import Path\nimport time\n"
        f"with FolderLock(Path({str(out)!r})):\n    print('held', flush=True)\n    time.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunFolderError, match=f"in use by process {holder.pid}"):
            runs.train_run(tiny_recipe(epochs=1), out, tiny, progress=False, log=quiet)
        assert not (out / STATE).exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    meta = runs.train_run(tiny_recipe(epochs=1), out, tiny, progress=False, log=quiet)  # the lock died with it
    assert meta["epochs"] == 1


def test_process_start_is_the_operating_systems(tiny, tmp_path):
    import psutil

    assert abs(provenance.process_started_at() - psutil.Process().create_time()) < 1.5  # /proc's boot time: whole s
    runs.train_run(tiny_recipe(epochs=1), tmp_path / "run", tiny, progress=False, log=quiet)
    (row,) = json.loads((tmp_path / "run" / HISTORY).read_text())
    assert row["seconds_since_process_start"] > row["wall_seconds_since_start"] > row["train_seconds"] > 0


def test_write_json_atomic_leaves_no_temporary_files(tmp_path):
    provenance.write_json_atomic(tmp_path / "x.json", {"a": 1})
    assert json.loads((tmp_path / "x.json").read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_resume_finds_its_checkpoint_from_any_working_directory(tiny, tmp_path, monkeypatch):
    recipe = tiny_recipe(epochs=2)
    monkeypatch.chdir(tmp_path)
    runs.train_run(recipe, "run", tiny, progress=False, stop_after=1, log=quiet)
    assert json.loads((tmp_path / "run" / STATE).read_text())["checkpoint"] == "checkpoints/epoch-0001"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    meta = runs.train_run(recipe, tmp_path / "run", tiny, progress=False, log=quiet)
    assert meta["epochs"] == 2
    # A state written by an older version (path as typed on the command line) still resumes.
    older = {"checkpoint": "results/run/checkpoints/epoch-0001"}
    assert run_folder.checkpoint_prefix(tmp_path / "run", older) == tmp_path / "run" / "checkpoints" / "epoch-0001"


def test_training_segments_group_consecutive_epochs_by_commit_and_machine():
    cpu, gpu = {"cpu": "AMD EPYC"}, {"cpu": "AMD EPYC", "gpus": ["/physical_device:GPU:0"]}
    history = [
        {"epoch": 1},  # recorded before rows carried commit and machine
        {"epoch": 2, "git_commit": "a", "machine": cpu},
        {"epoch": 3, "git_commit": "a", "machine": cpu},
        {"epoch": 4, "git_commit": "b", "machine": cpu},
        {"epoch": 5, "git_commit": "b", "machine": gpu},
    ]
    segments = [(s["first_epoch"], s["last_epoch"], s["git_commit"]) for s in provenance.training_segments(history)]
    assert segments == [(1, 1, None), (2, 3, "a"), (4, 4, "b"), (5, 5, "b")]
    assert provenance.training_segments([]) == []


def test_load_run_reads_a_shipped_run_and_names_what_is_missing(tmp_path):
    run = runs.load_run("improved")
    assert run.folder == paths.results_dir() / "improved" and run.metadata["config"] == "improved"
    assert len(run.history) == run.metadata["epochs"]
    with pytest.raises(FileNotFoundError, match="metadata.json is missing"):
        runs.load_run(tmp_path)


# ------------------------------------------------------------------------------ the command line


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--config", "bogus"], "unknown recipe 'bogus'"),
        (["--config", "improved", "--epochs", "0"], "--epochs must be an integer from 1 to 10000, got 0"),
        (["--config", "improved", "--seed", "4294967296"], "--seed must be an integer from 0 to 4294967295"),
        (["--config", "improved", "--batch-size", "1000000000"], "--batch-size must be an integer from 1 to 60000"),
        (["--config", "improved", "--train-per-class", "0"], "--train-per-class must be an integer from 1 to 6000"),
        (["--config", "improved", "--data-dir", "/nonexistent"], "/nonexistent (from the data_dir argument) does not"),
    ],
)
def test_cli_bad_arguments_exit_cleanly_and_touch_nothing(argv, message, tmp_path):
    out = tmp_path / "out"
    result = cli("train", *argv, "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_cli_damaged_data_is_one_line_naming_the_file(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    for stem in data.FILES:
        (folder / f"{stem}.gz").write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\xff" * 20)
    out = tmp_path / "out"
    result = cli("train", "--config", "improved", "--data-dir", str(folder), "--out", str(out))
    assert result.returncode == 2
    assert "train-images-idx3-ubyte.gz: cannot be decompressed" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_cli_expands_a_tilde_in_out(tmp_path):
    result = cli("train", "--config", "improved", "--seed", "-1", "--out=~/x", env={"HOME": str(tmp_path)})
    assert result.returncode == 2 and "--seed" in result.stderr
    assert not (Path.cwd() / "~").exists()


@needs_data
@pytest.mark.parametrize("name, epochs", [("improved", 15), ("writeup", 100)])
def test_the_readmes_commands_on_the_shipped_runs_change_nothing(tmp_path, name, epochs):
    shipped = tmp_path / name
    shutil.copytree(paths.results_dir() / name, shipped)
    had_checkpoints = (shipped / "checkpoints").exists()
    before = snapshot(shipped)
    result = cli("train", "--config", name, "--epochs", str(epochs), "--out", str(shipped))
    assert result.returncode == 0, result.stderr
    assert f"finished run ({epochs} epochs): nothing was changed" in result.stdout
    assert snapshot(shipped) == before and (shipped / "checkpoints").exists() == had_checkpoints


@needs_data
def test_cli_killed_in_its_first_epoch_resumes_cleanly(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "googlenet", "train", "--config", "improved", "--epochs", "2"]
    command += ["--train-per-class", "30", "--batch-size", "50", "--no-progress", "--out", str(out)]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert first.stdout.readline().startswith("epoch 1/2")  # training has begun
        time.sleep(0.5)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert not (out / STATE).exists()
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    meta = json.loads((out / METADATA).read_text())
    assert meta["epochs"] == 2 and meta["train_images"] == 300
    assert meta["run_config"]["train_per_class"] == 30
    # A full run cannot resume into, or overwrite, the subset run's folder (and vice versa).
    full = subprocess.run(command[:8] + ["--no-progress", "--out", str(out)], capture_output=True, text=True)
    assert full.returncode == 2 and "train_per_class" in full.stderr


def test_bench_out_pointing_at_a_file_is_an_error(tmp_path):
    (tmp_path / "f").write_text("x")
    result = cli("bench", "--quick", "--out", str(tmp_path / "f"))
    assert result.returncode == 2 and "is a file, not a folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_extension_leaves_no_stale_metadata_behind(tiny, tmp_path):
    out = tmp_path / "const"
    constant = tiny_recipe(epochs=1, schedule="constant", learning_rate=1e-3)
    runs.train_run(constant, out, tiny, progress=False, log=quiet)
    assert runs.load_run(out).metadata["epochs"] == 1
    stopped = runs.train_run(replace(constant, epochs=3), out, tiny, extend=True, stop_after=1, progress=False)
    assert stopped == {"interrupted_after_epoch": 2}
    assert not (out / METADATA).exists()  # unfinished again: no metadata that describes 1 epoch
    with pytest.raises(FileNotFoundError, match="holds no finished run"):
        runs.load_run(out)


def test_load_run_refuses_a_history_that_disagrees_with_the_metadata(tmp_path):
    (tmp_path / METADATA).write_text(json.dumps({"epochs": 2}))
    (tmp_path / HISTORY).write_text(json.dumps([{"epoch": 1}]))
    with pytest.raises(ValueError, match="describes 2 epochs but history.json holds 1"):
        runs.load_run(tmp_path)


def test_damaged_history_or_checkpoint_is_a_message_not_a_traceback(tiny, tmp_path):
    out = tmp_path / "run"
    runs.train_run(tiny_recipe(epochs=3), out, tiny, progress=False, stop_after=1, log=quiet)
    good = (out / HISTORY).read_text()
    (out / HISTORY).write_text("[")
    with pytest.raises(RunFolderError, match=r"history.json is damaged .*Nothing was changed"):
        runs.train_run(tiny_recipe(epochs=3), out, tiny, progress=False, log=quiet)
    (out / HISTORY).write_text(good)
    for data_file in (out / "checkpoints").glob("epoch-0001.data-*"):
        data_file.write_bytes(b"not a checkpoint")
    with pytest.raises(RunFolderError, match="cannot be restored"):
        runs.train_run(tiny_recipe(epochs=3), out, tiny, progress=False, log=quiet)
    assert json.loads((out / STATE).read_text())["completed_epochs"] == 1


def test_cli_batch_larger_than_the_subset_is_refused_before_loading_data(tmp_path):
    result = cli(
        "train", "--config", "improved", "--train-per-class", "2", "--batch-size", "64", "--out", str(tmp_path / "o")
    )
    assert result.returncode == 2 and "--batch-size 64 is larger than the 20 training images" in result.stderr
    assert not (tmp_path / "o").exists()


def test_a_run_with_validation_scores_held_out_images_and_records_them(tiny, tmp_path):
    recipe = tiny_recipe(epochs=1, validation_per_class=1)
    meta = runs.train_run(recipe, tmp_path / "v", tiny, progress=False, log=quiet)
    assert meta["train_images"] == 30 and meta["run_config"]["validation_per_class"] == 1
    held = json.loads((tmp_path / "v" / "validation_indices.json").read_text())
    assert held == [int(i) for i in data.validation_split(tiny.y_train, per_class=1)[1]]
    assert meta["validation"]["images"] == 10 and 0 <= meta["validation"]["accuracy"] <= 1
    row = json.loads((tmp_path / "v" / HISTORY).read_text())[0]
    assert {"val_loss", "val_accuracy", "test_loss", "test_accuracy"} <= set(row)
    model = keras.models.load_model(tmp_path / "v" / MODEL)
    assert meta["validation"]["accuracy"] == evaluate.accuracy(model, tiny.x_train[held], tiny.y_train[held])
    # A run without validation cannot resume into this folder, nor this one into a full run's.
    with pytest.raises(RunFolderError, match="validation_per_class: the folder has 1, the command gives None"):
        run_folder.check_output_dir(tmp_path / "v", tiny_recipe(epochs=1))


def test_gradient_probe_logs_every_stage_at_init_and_each_epoch_and_survives_a_resume(tiny, tmp_path):
    from googlenet.models import paper

    model_args = {"size": 72, "width": 0.125, "aux_heads": True}
    recipe = replace(
        recipes.IMPROVED,
        builder=paper.googlenet_fashion,
        model_args=model_args,
        epochs=2,
        batch_size=10,
        gradient_probe=8,
    )
    assert recipe.record()["gradient_probe"] == 8 and "gradient_probe" not in recipes.IMPROVED.record()
    runs.train_run(recipe, tmp_path / "whole", tiny, progress=False, log=quiet)
    runs.train_run(recipe, tmp_path / "split", tiny, progress=False, stop_after=1, log=quiet)
    runs.train_run(recipe, tmp_path / "split", tiny, progress=False, log=quiet)
    whole = json.loads((tmp_path / "whole" / run_folder.GRADIENTS).read_text())
    assert [row["epoch"] for row in whole] == [0, 1, 2]
    stages = {"conv1", "conv2", "3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b", "classifier", "aux1", "aux2"}
    assert set(whole[0]["main"]) == set(whole[0]["with_heads"]) == stages
    assert whole[0]["main"]["aux1"] == 0.0 < whole[0]["with_heads"]["aux1"]  # only the heads' loss reaches them
    assert whole == json.loads((tmp_path / "split" / run_folder.GRADIENTS).read_text())
    assert runs.load_run(tmp_path / "whole").gradient_norms() == whole
    (tmp_path / "whole" / run_folder.GRADIENTS).write_text(json.dumps(whole[:2]))  # a log one epoch short
    with pytest.raises(ValueError, match=r"holds epochs \[0, 1\], not 0 to 2"):
        runs.load_run(tmp_path / "whole").gradient_norms()
    (tmp_path / "whole" / run_folder.GRADIENTS).unlink()
    with pytest.raises(FileNotFoundError, match="trained without a gradient probe"):
        runs.load_run(tmp_path / "whole").gradient_norms()


def test_a_recorded_width_table_reads_back_as_lists_and_still_matches():
    """Tuples in model_args (equal_widths' table) come back from JSON as lists: not a change."""
    recorded = json.loads(json.dumps(recipes.EQUAL_WIDTHS.record()))
    assert isinstance(recorded["model_args"]["widths"][0], list)
    assert run_folder._mismatches(recorded, recipes.EQUAL_WIDTHS) == []
    other = replace(recipes.EQUAL_WIDTHS, model_args=recipes.EQUAL_WIDTHS.model_args | {"widths": ((21,) * 6,) * 5})
    assert [m.split(":")[0] for m in run_folder._mismatches(recorded, other)] == ["model_args"]
