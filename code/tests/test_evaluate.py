from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from googlenet import cost, evaluate, figures  # noqa: E402
from googlenet.models import improved, note  # noqa: E402


def test_confusion_matrix_and_per_class_accuracy():
    true = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 1, 1, 1, 0, 2])
    counts = evaluate.confusion_matrix(true, pred, num_classes=3)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    np.testing.assert_allclose(evaluate.per_class_accuracy(counts), [0.5, 1.0, 0.5])


@pytest.mark.parametrize("true, pred, message", [([0, 1], [0], "shape"), ([0, 10], [0, 1], "0..9")])
def test_confusion_matrix_rejects_bad_input(true, pred, message):
    with pytest.raises(ValueError, match=message):
        evaluate.confusion_matrix(np.array(true), np.array(pred))


def test_predict_classes_on_raw_pixels():
    model = improved.improved_net(num_modules=1)
    images = np.zeros((3, 28, 28), dtype=np.uint8)
    assert evaluate.predict_classes(model, images).shape == (3,)


def test_writeup_functional_twin_matches_subclassed_model():
    twin = note.writeup_functional()
    assert cost.total_params(twin) == note.writeup_net().count_params()
    assert cost.total_macs(twin) > 0


def test_grid_and_confusion_figures():
    fig = figures.image_grid(np.zeros((5, 28, 28)), titles=list("abcde"), ncols=3)
    assert len(fig.axes) == 6
    fig = figures.confusion_matrix_figure(np.eye(3, dtype=int), ["a", "b", "c"])
    assert len(fig.axes[0].texts) == 9


def _history(accuracies):
    return [{"epoch": i, "test_accuracy": a} for i, a in enumerate(accuracies, start=1)]


def test_first_epoch_reaching():
    history = _history([0.80, 0.90, 0.9124, 0.95])
    assert evaluate.first_epoch_reaching(history, 0.9124)["epoch"] == 3
    assert evaluate.first_epoch_reaching(history, 0.96) is None
    with pytest.raises(ValueError, match="0.9124"):
        evaluate.first_epoch_reaching(history, 91.24)


def test_recent_slope_fits_the_last_epochs_only():
    history = _history([0.10, 0.50, 0.80, 0.81, 0.82, 0.83])
    assert evaluate.recent_slope(history, window=4) == pytest.approx(0.01)
    assert evaluate.recent_slope(history, window=2) == pytest.approx(0.01)
    noisy = _history([0.80, 0.83, 0.81, 0.84, 0.82, 0.85])  # zig-zag around a slope of 0.01
    assert evaluate.recent_slope(noisy, window=6) == pytest.approx(0.0071, abs=1e-4)


@pytest.mark.parametrize("window, message", [(1, "at least 2"), (7, "fewer than the window")])
def test_recent_slope_rejects_bad_window(window, message):
    with pytest.raises(ValueError, match=message):
        evaluate.recent_slope(_history([0.8] * 6), window=window)


def test_recent_mean_and_mean_epoch_change():
    history = [{"epoch": e, "test_accuracy": a} for e, a in enumerate([0.5, 0.9, 0.8, 0.9, 0.7], start=1)]
    assert evaluate.recent_mean(history, window=2) == pytest.approx(0.8)
    assert evaluate.mean_epoch_change(history, window=4) == pytest.approx((0.1 + 0.1 + 0.2) / 3)
    with pytest.raises(ValueError, match="fewer than the window"):
        evaluate.recent_mean(history, window=6)
    with pytest.raises(ValueError, match="at least 2"):
        evaluate.mean_epoch_change(history, window=1)
