from __future__ import annotations

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from googlenet import data, fit


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 4).astype(np.uint8)
    images = rng.integers(0, 256, size=(40, 28, 28), dtype=np.uint8)
    images[:, 10:18, 10:18] = labels[:, None, None] * 25  # a learnable signal per class
    return data.FashionMNIST(images, labels, images[:20], labels[:20], data.CLASS_NAMES, source=None)


def tiny_config(epochs=3):
    return fit.make_config("improved", epochs, 16, 0, model_args={"num_modules": 2, "width": 0.5})


def test_augmentation_keeps_shapes_labels_and_range(tiny):
    ds = fit.train_dataset(tiny.x_train, tiny.y_train, 8, seed=0, epoch=1, augment=True)
    plain = fit.train_dataset(tiny.x_train, tiny.y_train, 8, seed=0, epoch=1, augment=False)
    for (xa, ya), (xp, yp) in zip(ds, plain, strict=True):
        assert xa.shape == xp.shape and xa.shape[1:] == (28, 28, 1)
        np.testing.assert_array_equal(ya, yp)
        assert float(np.min(xa)) >= 0 and float(np.max(xa)) <= 255
    first = [x.numpy() for x, _ in fit.train_dataset(tiny.x_train, tiny.y_train, 8, 0, 1, True)]
    again = [x.numpy() for x, _ in fit.train_dataset(tiny.x_train, tiny.y_train, 8, 0, 1, True)]
    other = [x.numpy() for x, _ in fit.train_dataset(tiny.x_train, tiny.y_train, 8, 0, 2, True)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))  # a function of (seed, epoch)
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_train_step_reduces_loss(tiny):
    keras.utils.set_random_seed(0)
    trainer = fit.Trainer(fit.build_model(tiny_config()), 1e-2)
    x = tiny.x_train[:16, ..., None].astype("float32")
    y = keras.utils.to_categorical(tiny.y_train[:16], 10)
    losses = []
    for _ in range(8):
        trainer.reset()
        trainer.train_step(x, y)
        losses.append(float(trainer.train_loss.result()))
    assert losses[-1] < losses[0]


def test_resume_after_interruption_equals_uninterrupted_run(tiny, tmp_path):
    config = tiny_config()
    whole = fit.train_run(config, tmp_path / "whole", tiny, progress=False, log=lambda m: None)
    stopped = fit.train_run(config, tmp_path / "split", tiny, progress=False, stop_after=1, log=lambda m: None)
    assert stopped == {"interrupted_after_epoch": 1}
    assert json.loads((tmp_path / "split" / fit.STATE).read_text())["completed_epochs"] == 1
    resumed = fit.train_run(config, tmp_path / "split", tiny, progress=False, log=lambda m: None)
    h_whole = json.loads((tmp_path / "whole" / fit.HISTORY).read_text())
    h_split = json.loads((tmp_path / "split" / fit.HISTORY).read_text())
    assert [r["epoch"] for r in h_split] == [1, 2, 3] == [r["epoch"] for r in h_whole]
    assert [r["train_loss"] for r in h_split] == [r["train_loss"] for r in h_whole]
    a = keras.models.load_model(tmp_path / "whole" / fit.MODEL)
    b = keras.models.load_model(tmp_path / "split" / fit.MODEL)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert resumed["test_accuracy"] == whole["test_accuracy"]
    meta = json.loads((tmp_path / "whole" / fit.METADATA).read_text())
    for key in ("config", "epochs", "batch_size", "seed", "test_accuracy", "params", "train_seconds",
                "images_per_second", "git_commit", "versions", "machine"):  # fmt: skip
        assert key in meta
    assert meta["test_accuracy"] == fit.evaluate_accuracy(a, tiny.x_test, tiny.y_test)
    # Both calls ran the same code on the same machine: one segment covering every epoch.
    assert all("git_commit" in row and "machine" in row for row in h_split)
    assert [(s["first_epoch"], s["last_epoch"]) for s in resumed["segments"]] == [(1, 3)]
    # The checkpoints kept are the last two epochs only.
    assert sorted({p.name.split(".")[0] for p in (tmp_path / "whole" / "checkpoints").iterdir()}) == [
        "epoch-0002", "epoch-0003"]  # fmt: skip


def test_writeup_config_runs_end_to_end(tiny, tmp_path):
    config = fit.make_config("writeup", 1, 20, 0, model_args={"filters": 4, "num_blocks": 1})
    meta = fit.train_run(config, tmp_path / "w", tiny, progress=False, log=lambda m: None)
    model = keras.models.load_model(tmp_path / "w" / fit.MODEL, safe_mode=True)
    assert meta["test_accuracy"] == fit.evaluate_accuracy(model, tiny.x_test, tiny.y_test)
    assert meta["params"] == model.count_params() and meta["multiply_adds"] > 0


def test_write_json_atomic_leaves_no_temporary_files(tmp_path):
    fit.write_json_atomic(tmp_path / "x.json", {"a": 1})
    assert json.loads((tmp_path / "x.json").read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


@pytest.mark.parametrize(
    "args, message",
    [(("nope", 3, 16, 0), "unknown config"), (("improved", 0, 16, 0), "epochs"), (("improved", 3, 0, 0), "batch_size"),
     (("improved", 3, 16, -1), "seed")],
)  # fmt: skip
def test_make_config_rejects_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        fit.make_config(*args)


def test_resume_into_folder_of_another_config_is_refused_and_untouched(tiny, tmp_path):
    out = tmp_path / "run"
    fit.train_run(tiny_config(epochs=2), out, tiny, progress=False, stop_after=1, log=lambda m: None)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    other = fit.make_config("writeup", 2, 16, 0)
    with pytest.raises(ValueError, match="cannot resume as 'writeup'"):
        fit.train_run(other, out, tiny, progress=False)
    changed = fit.make_config("improved", 2, 32, 0, model_args={"num_modules": 2, "width": 0.5})
    with pytest.raises(ValueError, match="batch_size"):
        fit.check_output_dir(out, changed)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_non_empty_folder_without_state_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        fit.check_output_dir(tmp_path, tiny_config())


def test_unwritable_folder_is_refused(tmp_path):
    # /proc refuses new files even to root, so this holds in CI too.
    with pytest.raises(PermissionError, match="not writable"):
        fit.check_output_dir("/proc/googlenet-run", tiny_config())


def test_file_in_place_of_folder_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match="not a folder"):
        fit.check_output_dir(tmp_path / "f", tiny_config())


@pytest.mark.parametrize(
    "argv, message",
    [(["--config", "bogus", "--epochs", "1"], "unknown config 'bogus'"), (["--config", "improved", "--epochs", "0"],
     "epochs must be an integer >= 1")],
)  # fmt: skip
def test_cli_bad_arguments_exit_cleanly_and_touch_nothing(argv, message, tmp_path):
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "googlenet", "train", *argv, "--out", str(out)],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 2
    assert message in result.stderr
    assert not out.exists()


def test_resume_finds_its_checkpoint_from_any_working_directory(tiny, tmp_path, monkeypatch):
    config = tiny_config(epochs=2)
    monkeypatch.chdir(tmp_path)
    fit.train_run(config, "run", tiny, progress=False, stop_after=1, log=lambda m: None)
    assert json.loads((tmp_path / "run" / fit.STATE).read_text())["checkpoint"] == "checkpoints/epoch-0001"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    meta = fit.train_run(config, tmp_path / "run", tiny, progress=False, log=lambda m: None)
    assert meta["epochs"] == 2
    # A state written by an older version (path as typed on the command line) still resumes.
    assert fit.checkpoint_prefix(tmp_path / "run", {"checkpoint": "results/run/checkpoints/epoch-0001"}) == (
        tmp_path / "run" / "checkpoints" / "epoch-0001")  # fmt: skip


def test_training_segments_group_consecutive_epochs_by_commit_and_machine():
    cpu, gpu = {"cpu": "AMD EPYC"}, {"cpu": "AMD EPYC", "gpus": ["/physical_device:GPU:0"]}
    history = [
        {"epoch": 1},  # recorded before rows carried commit and machine
        {"epoch": 2, "git_commit": "a", "machine": cpu},
        {"epoch": 3, "git_commit": "a", "machine": cpu},
        {"epoch": 4, "git_commit": "b", "machine": cpu},
        {"epoch": 5, "git_commit": "b", "machine": gpu},
    ]
    assert [(s["first_epoch"], s["last_epoch"], s["git_commit"]) for s in fit.training_segments(history)] == [
        (1, 1, None), (2, 3, "a"), (4, 4, "b"), (5, 5, "b")]  # fmt: skip
    assert fit.training_segments([]) == []
