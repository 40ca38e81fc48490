"""Argument checks shared by every builder and command: one rule, one wording.

Each check returns the value it accepts and raises ``ValueError`` naming the argument, what it
must be and what was given, so a caller can write ``depth = positive_int("depth", depth)``.
"""

from __future__ import annotations

from collections.abc import Iterable


def integer(name: str, value: object, *, minimum: int, maximum: int | None = None, what: str = "an integer") -> int:
    """Accept an ``int`` (not a ``bool``) in ``[minimum, maximum]``.

    Args:
        name: the argument's name as the caller knows it (``"--batch-size"``, ``"filters_1x1"``).
        value: the value given.
        minimum: the smallest accepted value.
        maximum: the largest accepted value, or ``None`` for no upper bound.
        what: how to describe an accepted value in the message (``"a number of filters"``).
    """
    if value is None:
        raise ValueError(f"{name} is missing: give {what}")
    bounds = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} must be {what} {bounds}, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {what} {bounds}, got {value}")
    return value


def positive_int(name: str, value: object, what: str = "a positive integer") -> int:
    """Accept an integer >= 1 (a width, a depth, a count).

    Args:
        name: the argument's name.
        value: the value given.
        what: how to describe an accepted value (``"a positive number of filters"``).
    """
    return integer(name, value, minimum=1, what=what)


def width(name: str, value: object) -> int:
    """Accept a branch or layer width: a positive number of filters.

    Args:
        name: the argument's name.
        value: the value given.
    """
    return positive_int(name, value, what="a positive integer number of filters")


def positive_ints(name: str, values: Iterable[object]) -> tuple[int, ...]:
    """Accept a sequence of positive integers (hidden layer sizes, split sizes).

    Args:
        name: the argument's name.
        values: the values given.
    """
    return tuple(positive_int(f"{name} entry", v) for v in values)


def positive_scale(name: str, value: object) -> float:
    """Accept a real number > 0 (a width multiplier).

    Args:
        name: the argument's name.
        value: the value given.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a positive scale factor, got {value!r}")
    return float(value)


def fraction(name: str, value: object, *, allow_zero: bool = True, allow_one: bool = False) -> float:
    """Accept a real number in [0, 1) (a dropout rate) or the bounds chosen.

    Args:
        name: the argument's name.
        value: the value given.
        allow_zero: whether 0 is accepted.
        allow_one: whether 1 is accepted.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number between 0 and 1, got {value!r}")
    low_ok = value > 0 or (allow_zero and value == 0)
    high_ok = value < 1 or (allow_one and value == 1)
    if not (low_ok and high_ok):
        low, high = "[" if allow_zero else "(", "]" if allow_one else ")"
        raise ValueError(f"{name} must lie in {low}0, 1{high}, got {value}")
    return float(value)


def choice(name: str, value: object, options: Iterable[object]) -> object:
    """Accept one of ``options``; the message lists them.

    Args:
        name: the argument's name.
        value: the value given.
        options: the accepted values.
    """
    options = tuple(options)
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, got {value!r}")
    return value
