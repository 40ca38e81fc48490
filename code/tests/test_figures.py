from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from googlenet import blocks, diagrams, figure_checks, figures  # noqa: E402


def _texts(fig):
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts + [ax.title])


def test_module_diagram_shows_widths_shapes_and_costs():
    model = blocks.single_block_model(blocks.inception_from_widths, name="m", widths=(128, 64, 192, 64, 96, 64))
    text = _texts(diagrams.draw_inception_module(model, "m", title="example"))
    for expected in (
        "5x5 conv, 96",
        "1x1 conv, 64",
        "3x3 max pool",
        "28x28x480",
        "28x28x256",
        "271.4M",
        "pool branch",
    ):
        assert expected in text


def test_module_diagram_rejects_unknown_module():
    model = blocks.single_block_model(blocks.naive_inception, name="m", filters_1x1=1, filters_3x3=1, filters_5x5=1)
    with pytest.raises(ValueError, match="no layers of a module named 'x'"):
        diagrams.draw_inception_module(model, "x")


def test_training_curves_accepts_keras_and_book_histories():
    fig = figures.training_curves(
        {"accuracy": [0.5, 0.6], "val_accuracy": [0.4, 0.5], "loss": [1, 0.8], "val_loss": [1, 0.9]}
    )
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2
    fig = figures.training_curves({"train_accuracy": [0.5], "test_accuracy": [0.4]}, metrics=("accuracy",))
    assert [line.get_label() for line in fig.axes[0].lines] == ["train", "test"]


def test_image_grid_captions_each_image_with_its_own_class():
    images = np.zeros((3, 28, 28), "uint8")
    fig = figures.image_grid(images, ncols=3, labels=[2, 0, 1], class_names=("a", "b", "c"))
    assert [ax.get_title() for ax in fig.axes] == ["c", "a", "b"]
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        figures.image_grid(images, labels=[0, 1], class_names=("a", "b"))
    with pytest.raises(ValueError, match="not with titles"):
        figures.image_grid(images, ["x", "y", "z"], labels=[0, 1, 2], class_names=("a", "b", "c"))


@pytest.mark.parametrize("fast", [False, True])
def test_network_diagram_draws_every_module_with_its_widths(fast):
    from googlenet.models import improved, paper

    def texts(fig):
        return [t.get_text() for ax in fig.axes for t in ax.texts]

    model = paper.googlenet()
    text = texts(diagrams.draw_network(model))
    for name, (f1, r3, f3, r5, f5, pp) in paper.GOOGLENET_MODULES.items():
        assert name in text
        assert {f"{f1}", f"{r3} → {f3}", f"{r5} → {f5}", f"{pp}"} <= set(text), name
    assert {"#1x1", "#3x3 reduce\n→ #3x3", "#5x5 reduce\n→ #5x5", "pool\n→ proj"} <= set(text)
    assert "aux1:\n5x5/3 avg pool → 1x1 conv 128\n→ FC 1024 → dropout 70%" in text
    assert "7x7x1024" in text and "conv1_7x7: conv 7x7/2, 64" in text
    assert figure_checks.small_text(diagrams.draw_network(model)) == []
    build = improved.improved_net(num_modules=6, aux_heads=True, fast=fast)
    text = texts(diagrams.draw_network(build))
    assert {"1", "6"} <= set(text) and "aux2:\nglobal avg pool → FC 128\n→ dropout 50%" in text
    for i, widths in enumerate(improved.IMPROVED_WIDTHS[:6], start=1):
        assert diagrams.module_widths_of(build, f"inception_{i}") == widths


def test_network_diagram_refuses_a_model_without_modules():
    from googlenet.models import plain

    with pytest.raises(ValueError, match="no inception modules"):
        diagrams.draw_network(plain.plain_conv_stack(depth=2, width=4, input_shape=(8, 8, 1)))


def test_confusion_counts_are_white_only_on_dark_cells():
    counts = np.diag([1000, 500, 20]) + 1  # diagonal dark, the rest nearly white
    fig = figures.confusion_matrix_figure(counts, ["a", "b", "c"])
    texts = {t.get_text(): t.get_color() for t in fig.axes[0].texts}
    assert texts["1001"] == "white" and texts["1"] == "black"
    assert figure_checks.small_text(fig) == []
    plt.close(fig)
