"""The phrases chapters build from the registries."""

from __future__ import annotations

import pytest

from googlenet import wording


def test_number_words_up_to_ten_then_digits():
    assert [wording.number_word(n) for n in (0, 1, 3, 10, 11, 120)] == ["zero", "one", "three", "ten", "11", "120"]


@pytest.mark.parametrize("bad", [-1, 2.0, True, "3", None])
def test_a_count_that_is_not_a_whole_number_is_refused(bad):
    with pytest.raises(ValueError, match="whole number"):
        wording.number_word(bad)


def test_counted_is_plural_except_for_one():
    assert wording.counted(1, "seed") == "one seed"
    assert wording.counted(2, "seed") == "two seeds"
    assert wording.counted(0, "run") == "zero runs"
    with pytest.raises(ValueError, match="noun"):
        wording.counted(2, "")


def test_join_and_lists_as_prose_does():
    assert wording.join_and(["heads"]) == "heads"
    assert wording.join_and(["heads", "no_heads"]) == "heads and no_heads"
    assert wording.join_and(("a", "b", "c")) == "a, b and c"
    with pytest.raises(ValueError, match="at least one"):
        wording.join_and([])
