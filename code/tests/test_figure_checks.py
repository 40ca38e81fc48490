from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from googlenet import figure_checks  # noqa: E402


def _figure():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1, 2], [0, 1, 2], label="a")
    ax.plot([0, 1, 2], [2, 1, 0], label="b", linestyle="--")
    return fig, ax


def test_a_clean_figure_passes():
    fig, ax = _figure()
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2))  # below the axes: covers nothing
    assert figure_checks.figure_problems(fig) == []
    assert figure_checks.check_figure(fig) is fig
    plt.close(fig)


def test_text_under_eight_points_is_found():
    assert figure_checks.MIN_FONT_PT == 8  # the messages below name it
    fig, ax = _figure()
    ax.set_title("tiny", fontsize=5)
    assert figure_checks.small_text(fig) == ["text 'tiny' is shown at 5.0 pt (minimum 8)"]
    plt.close(fig)


def test_text_of_a_figure_wider_than_the_page_shrinks_with_it():
    fig, ax = plt.subplots(figsize=(14, 3))  # shown at half size
    ax.set_title("ten points", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    assert figure_checks.display_scale(fig) == 0.5
    assert figure_checks.small_text(fig) == [
        "text 'ten points' is shown at 5.0 pt (10.0 pt in a 14-inch figure) (minimum 8)"
    ]
    fig.set_figwidth(7)
    assert figure_checks.display_scale(fig) == 1 and figure_checks.small_text(fig) == []
    plt.close(fig)


def test_a_legend_over_the_data_is_found():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot(range(50), [25] * 50, label="flat line through the middle")
    ax.legend(loc="center")
    assert figure_checks.legend_overlaps(fig) and "covers" in figure_checks.legend_overlaps(fig)[0]
    plt.close(fig)


def test_two_series_that_look_the_same_are_found():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], color="C0", label="seed 1", linestyle=":")
    ax.plot([0, 1], [1, 0], color="C0", label="seed 2", linestyle=":")
    assert figure_checks.indistinct_series(fig) == ["axes 0: 'seed 1' and 'seed 2' look the same"]
    with pytest.raises(ValueError, match="hard to read"):
        figure_checks.check_figure(fig)
    plt.close(fig)


def test_the_packages_own_figures_pass_the_checks():
    import numpy as np

    from googlenet import diagrams, figures
    from googlenet.models import paper

    figures.use_book_style()
    model = paper.googlenet((224, 224, 3), 1000)
    made = {
        "training curves": figures.training_curves(
            {
                "train_accuracy": [0.5, 0.7, 0.8],
                "test_accuracy": [0.45, 0.6, 0.7],
                "train_loss": [1.0, 0.6, 0.5],
                "test_loss": [1.1, 0.8, 0.7],
            }
        ),
        "confusion matrix": figures.confusion_matrix_figure(np.eye(3, dtype=int) * 5 + 1, ["a", "b", "c"]),
        "module": diagrams.draw_inception_module(model, "inception_3a", title="3a"),
        "network": diagrams.draw_network(model, title="GoogLeNet"),
    }
    problems = {name: figure_checks.figure_problems(fig) for name, fig in made.items()}
    for fig in made.values():
        plt.close(fig)
    assert problems == {name: [] for name in made}, problems


def test_tables_as_markdown_for_the_pdf_show_what_pandas_shows():
    import pandas as pd

    from googlenet import figures

    table = pd.DataFrame(
        {
            "params": [9408, 1089952],
            "ratio": [1.0, 0.95],
            "effect": ["+0.73", "-0.12"],
            "missing": [float("nan"), 2.5],
            "pipe": ["a|b", "c"],
        },
        index=pd.Index(["conv1", "conv2"], name="layer"),
    )
    lines = figures.markdown_table(table).splitlines()
    assert (
        lines[0] == "| layer | params | ratio | effect | missing | pipe |" and lines[1] == "|---|---|---|---|---|---|"
    )
    assert lines[2] == "| conv1 | 9408 | 1.00 | +0.73 | NaN | a\\|b |"
    assert lines[3] == "| conv2 | 1089952 | 0.95 | -0.12 | 2.5 | c |"


def test_reference_lines_and_bands_are_placed_by_their_own_transforms():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot(range(10), range(10), label="rising")
    ax.fill_between(range(10), 0, 1, color="0.9", label="band along the bottom")
    ax.legend(loc="lower right")  # over the band's lower right corner
    assert figure_checks.legend_overlaps(fig)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot(range(10), range(10), label="rising")
    ax.axhline(8, color="0.5")  # spans the axes in x, at y = 8: nowhere near a lower-right legend
    ax.legend(loc="lower right")
    assert figure_checks.legend_overlaps(fig) == []
    plt.close(fig)


def test_tables_too_wide_for_a_page_are_left_to_pandas_text():
    import pandas as pd

    from googlenet import figures

    wide = pd.DataFrame([range(figures.MARKDOWN_MAX_COLUMNS)])
    with pytest.raises(NotImplementedError, match="too wide"):
        figures.markdown_table(wide)


def test_a_multi_level_index_becomes_one_column_of_joined_labels():
    import pandas as pd

    from googlenet import figures

    index = pd.MultiIndex.from_tuples([("1x1", "conv_pool"), ("3x3", "parallel")], names=["kernel", "order"])
    lines = figures.markdown_table(pd.DataFrame({"macs": [1, 2]}, index=index)).splitlines()
    assert lines[0] == "| kernel / order | macs |"
    assert lines[2:] == ["| 1x1 / conv_pool | 1 |", "| 3x3 / parallel | 2 |"]


def test_a_closed_figure_can_still_be_checked():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1], label="line")
    ax.set_title("tiny", fontsize=5)
    plt.close(fig)  # the chapters close a figure before its check runs in a hidden cell
    assert figure_checks.small_text(fig) == ["text 'tiny' is shown at 5.0 pt (minimum 8)"]
    assert figure_checks.legend_overlaps(fig) == []


def test_tables_numbered_only_0_1_2_drop_that_column():
    import pandas as pd

    from googlenet import figures

    numbered = pd.DataFrame({"branch": ["1x1", "3x3"], "macs": [1, 2]})
    assert figures.numbered_only(numbered) and not figures.numbered_only(numbered.set_index("branch"))
    assert figures.markdown_table(numbered).splitlines() == [
        "| branch | macs |",
        "|---|---|",
        "| 1x1 | 1 |",
        "| 3x3 | 2 |",
    ]
    html = figures.html_table(numbered)
    assert 'class="dataframe"' in html and "<th>0</th>" not in html and "1x1" in html
    named = pd.DataFrame({"macs": [1, 2]}, index=pd.RangeIndex(1, 3, name="module"))
    assert figures.markdown_table(named).splitlines()[0] == "| module | macs |"


def test_long_cell_text_is_never_cut_short():
    import pandas as pd

    from googlenet import figures

    long = "submitted to the Fashion-MNIST README, not tested by its authors"
    frame = pd.DataFrame({"source": [long]}, index=pd.Index(["VGG16"], name="model"))
    assert long in figures.markdown_table(frame) and long in figures.html_table(frame)
