"""Phrases the chapters build from the registries, so that the prose follows the runs.

A sentence such as "two seeds of each arm" or "seed 2 of heads, no_heads and bn_heads" is
computed from what is shipped and glued into the text; these helpers keep its grammar in one
place rather than in every notebook.
"""

from __future__ import annotations

from collections.abc import Sequence

_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def number_word(count: int) -> str:
    """A count as a word up to ten ("three"), as digits above ("12"), as the book's prose writes it.

    Args:
        count: a whole number, zero or more.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be a whole number, zero or more; got {count!r}")
    return _WORDS[count] if count < len(_WORDS) else str(count)


def counted(count: int, noun: str) -> str:
    """A count with its noun, plural when it is not one: ``counted(2, "seed")`` is "two seeds".

    Args:
        count: how many, zero or more.
        noun: the singular noun; its plural adds an "s".
    """
    if not noun:
        raise ValueError("noun must be a non-empty word, such as 'seed'")
    return f"{number_word(count)} {noun}{'' if count == 1 else 's'}"


def join_and(items: Sequence[str]) -> str:
    """Items joined as prose lists them: "a", "a and b", "a, b and c".

    Args:
        items: one or more phrases, in the order the sentence gives them.
    """
    items = [str(item) for item in items]
    if not items:
        raise ValueError("join_and needs at least one item; a sentence cannot list nothing")
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]
