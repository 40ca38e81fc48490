from __future__ import annotations

import pytest

from googlenet import checks


def test_integer_accepts_ints_in_bounds_only():
    assert checks.integer("--seed", 0, minimum=0, maximum=9) == 0
    for bad in (-1, 10, True, 2.0, "3"):
        with pytest.raises(ValueError, match="--seed must be an integer from 0 to 9"):
            checks.integer("--seed", bad, minimum=0, maximum=9)
    with pytest.raises(ValueError, match="steps is missing"):
        checks.integer("steps", None, minimum=1)


def test_width_names_the_argument_and_the_unit():
    assert checks.width("filters_1x1", 16) == 16
    with pytest.raises(ValueError, match="pool_proj must be a positive integer number of filters >= 1, got 0"):
        checks.width("pool_proj", 0)
    assert checks.positive_ints("hidden_units", [3, 4]) == (3, 4)
    with pytest.raises(ValueError, match="hidden_units entry"):
        checks.positive_ints("hidden_units", [3, 0])


def test_fraction_and_choice():
    assert checks.fraction("dropout", 0) == 0.0
    for bad in (1, -0.1, True, "0.5"):
        with pytest.raises(ValueError, match="dropout"):
            checks.fraction("dropout", bad)
    assert checks.fraction("p", 1, allow_one=True) == 1.0
    with pytest.raises(ValueError, match="head must be one of 'gap', 'flatten', got 'fc'"):
        checks.choice("head", "fc", ("gap", "flatten"))
