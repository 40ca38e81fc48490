"""Closed-form costs of inception modules, and which slip in the arithmetic reproduces a published total.

Chapters 3-5 and 10 compare these formulas with the layer-by-layer counts of
:mod:`googlenet.cost` on built models (the two must agree exactly); the paper's and the study
note's quoted totals are then explained against them.
"""

from __future__ import annotations

import itertools

from .blocks import GRID_REDUCTIONS, MODULE_STYLES
from .checks import choice
from .cost import conv2d_macs, separable_conv2d_macs


def naive_inception_macs(height: int, width: int, in_channels: int, f1: int, f3: int, f5: int) -> int:
    """Closed-form multiply-adds of the naive module (1x1, 3x3, 5x5 'same' convolutions; a free pool).

    Args:
        height, width: the input's (and output's) spatial size.
        in_channels: the input's channels.
        f1, f3, f5: filters of the 1x1, 3x3 and 5x5 convolutions.
    """
    return sum(conv2d_macs(height, width, in_channels, f, k) for f, k in ((f1, 1), (f3, 3), (f5, 5)))


def inception_macs(
    height: int, width: int, in_channels: int, f1: int, r3: int, f3: int, r5: int, f5: int, pp: int
) -> int:
    """Closed-form multiply-adds of the inception module with dimension reduction.

    Args:
        height, width: the input's (and output's) spatial size.
        in_channels: the input's channels.
        f1, r3, f3, r5, f5, pp: Table 1's six widths (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5,
            pool proj).
    """
    hw = (height, width)
    return (
        conv2d_macs(*hw, in_channels, f1, 1)
        + conv2d_macs(*hw, in_channels, r3, 1)
        + conv2d_macs(*hw, r3, f3, 3)
        + conv2d_macs(*hw, in_channels, r5, 1)
        + conv2d_macs(*hw, r5, f5, 5)
        + conv2d_macs(*hw, in_channels, pp, 1)
    )


def styled_inception_macs(
    height: int, width: int, in_channels: int, widths: tuple[int, int, int, int, int, int], style: str
) -> int:
    """Closed-form multiply-adds of :func:`googlenet.blocks.inception_module` in any of its styles.

    Args:
        height, width: the input's (and output's) spatial size.
        in_channels: the input's channels.
        widths: Table 1's six widths (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj).
        style: one of :data:`googlenet.blocks.MODULE_STYLES`.
    """
    choice("style", style, MODULE_STYLES)
    f1, r3, f3, r5, f5, pp = widths
    hw = (height, width)
    ones = conv2d_macs(*hw, in_channels, f1 + r3 + r5 + pp, 1)  # the four 1x1 convolutions
    if style == "v1":
        return ones + conv2d_macs(*hw, r3, f3, 3) + conv2d_macs(*hw, r5, f5, 5)
    if style == "separable":
        return ones + separable_conv2d_macs(*hw, r3, f3, 3) + separable_conv2d_macs(*hw, r5, f5, 5)
    if style == "factorised":
        return ones + conv2d_macs(*hw, r3, f3, 3) + conv2d_macs(*hw, r5, f5, 3) + conv2d_macs(*hw, f5, f5, 3)

    def pair(c_in: int, c_out: int) -> int:  # 1x3 keeping the width, then 3x1 to c_out
        return conv2d_macs(*hw, c_in, c_in, (1, 3)) + conv2d_macs(*hw, c_in, c_out, (3, 1))

    return ones + pair(r3, f3) + pair(r5, f5) + pair(f5, f5)


def grid_reduction_macs(size: int, in_channels: int, out_channels: int, order: str, kernel: int = 3) -> int:
    """Closed-form multiply-adds of halving a ``size`` x ``size`` grid while widening the channels.

    Args:
        size: the input grid's side (even).
        in_channels: k, the input's channels.
        out_channels: the output's channels (2k in the paper's example).
        order: ``"conv_pool"`` (stride-1 convolution to ``out_channels``, then a pool),
            ``"pool_conv"`` (pool, then the convolution on the small grid) or ``"parallel"``
            (a stride-2 convolution to ``out_channels - in_channels`` beside a stride-2 pool).
        kernel: the convolution's side (the paper's arithmetic, ``2 d^2 k^2``, is ``kernel=1``).
    """
    choice("order", order, GRID_REDUCTIONS)
    if order == "conv_pool":
        return conv2d_macs(size, size, in_channels, out_channels, kernel)
    if order == "pool_conv":
        return conv2d_macs(size // 2, size // 2, in_channels, out_channels, kernel)
    return conv2d_macs(size, size, in_channels, out_channels - in_channels, kernel, stride=2)


def reduction_cost_line(
    height: int, width: int, in_channels: int, f1: int, f3: int, f5: int, pp: int
) -> tuple[int, int]:
    """The reduced module's multiply-adds as ``a + b r`` in the width r of both reductions: (a, b).

    Args:
        height, width, in_channels: the module's input.
        f1, f3, f5: filters of the 1x1, 3x3 and 5x5 branches.
        pp: the pool projection.
    """
    a = inception_macs(height, width, in_channels, f1, 0, f3, 0, f5, pp)
    return a, inception_macs(height, width, in_channels, f1, 1, f3, 1, f5, pp) - a


def reduction_break_even(height: int, width: int, in_channels: int, f1: int, f3: int, f5: int, pp: int) -> float:
    """The reduction width r (for both reductions) at which the reduced module costs as much as the naive one.

    The reduced module's cost is linear in r (:func:`reduction_cost_line`), so the break-even
    is exact: ``(naive - a) / b``; usually not an integer.

    Args:
        height, width, in_channels: the module's input.
        f1, f3, f5: filters of the 1x1, 3x3 and 5x5 branches (the same in both modules).
        pp: the reduced module's pool projection.
    """
    a, b = reduction_cost_line(height, width, in_channels, f1, f3, f5, pp)
    return (naive_inception_macs(height, width, in_channels, f1, f3, f5) - a) / b


def multiplicities_matching(
    terms: dict[str, int], quote: float, tolerance: float, max_count: int = 2
) -> list[dict[str, int]]:
    """Every way of counting each term 0..``max_count`` times whose sum is within ``tolerance`` of ``quote``.

    Used to ask of a published total "which slip in the arithmetic reproduces it?": the
    answers that keep every term at least once and change the fewest counts come first.

    Args:
        terms: named terms of a sum.
        quote: the published total.
        tolerance: how far from it a sum may be.
        max_count: the most times one term may be counted.
    """
    if not terms:
        raise ValueError("terms is empty: give at least one named term")
    names = list(terms)
    found = []
    for counts in itertools.product(range(max_count + 1), repeat=len(names)):
        total = sum(c * terms[n] for c, n in zip(counts, names, strict=True))
        if abs(total - quote) <= tolerance:
            found.append(dict(zip(names, counts, strict=True)))

    def changed(counts: dict[str, int]) -> tuple[int, int]:
        return (sum(1 for c in counts.values() if c == 0), sum(1 for c in counts.values() if c != 1))

    return sorted(found, key=changed)
