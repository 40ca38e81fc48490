"""Diagrams of networks drawn from built Keras models: one inception module, or a whole network.

Nothing is drawn by hand: every box, width and output size is read from the model's layers, so
a diagram changes when the model does, and the tests check it against the builders' tables.
"""

from __future__ import annotations

import keras
import matplotlib.pyplot as plt

from .cost import inbound_layer_names

_BRANCH_COLOURS = {"1x1": "#cfe3f7", "3x3": "#d5efd0", "5x5": "#fbe0c3", "pool": "#e6dcf3"}


def _describe(layer, row) -> str:
    if isinstance(layer, keras.layers.Conv2D):
        kh, kw = layer.kernel_size
        title = f"{kh}x{kw} conv, {layer.filters}"
        if layer.strides != (1, 1):
            title += f", /{layer.strides[0]}"
    elif isinstance(layer, keras.layers.MaxPooling2D):
        title = f"{layer.pool_size[0]}x{layer.pool_size[1]} max pool"
    else:
        title = type(layer).__name__
    shape = "x".join(map(str, row.output_shape))
    return f"{title}\n{shape}"


def draw_inception_module(model, module: str, title: str | None = None) -> plt.Figure:
    """Draw one inception module of a built model: its branches, widths, shapes and costs.

    Each box is a layer (kernel, filters, output shape); under each branch is its total of
    multiply-adds and parameters as counted by :mod:`googlenet.cost`. Batch-norm and ReLU
    layers are folded into the convolution they follow.

    Args:
        model: a built functional model holding the module.
        module: the module's name (its concatenation layer's name).
        title: the heading (default: the module's name).
    """
    from .blocks import BRANCHES, branch_of
    from .cost import format_count, layer_costs

    rows = layer_costs(model)
    branches: dict[str, list] = {b: [] for b in BRANCHES}
    totals = {b: [0, 0] for b in BRANCHES}
    for row in rows:
        branch = branch_of(row.name, module)
        if branch is None:
            continue
        totals[branch][0] += row.params
        totals[branch][1] += row.macs
        layer = model.get_layer(row.name)
        if row.kind in ("Conv2D", "MaxPooling2D"):
            branches[branch].append(_describe(layer, row))
    present = [b for b in BRANCHES if branches[b]]
    if not present:
        raise ValueError(f"model {model.name!r} has no layers of a module named {module!r}")
    concat = model.get_layer(module)
    in_desc = "x".join(str(int(d)) for d in model.get_layer(f"{module}_pool").input.shape[1:])
    out_desc = "x".join(str(int(d)) for d in concat.output.shape[1:])

    depth = max(len(branches[b]) for b in present)
    width = len(present)
    fig, ax = plt.subplots(figsize=(1.85 * width + 0.4, 0.95 * depth + 2.6))
    ax.set_xlim(0, width)
    ax.set_ylim(-1.9, depth + 1.4)
    ax.axis("off")
    box = {"boxstyle": "round,pad=0.35", "edgecolor": "#333333", "linewidth": 0.8}

    def node(x, y, text, colour):
        ax.text(x, y, text, ha="center", va="center", fontsize=10, bbox={**box, "facecolor": colour})

    node(width / 2, -0.55, f"input\n{in_desc}", "#eeeeee")
    node(width / 2, depth + 0.95, f"concatenate\n{out_desc}", "#eeeeee")
    for i, b in enumerate(present):
        x = i + 0.5
        layers_here = branches[b]
        ys = [0.55 + j * (depth / max(len(layers_here), 1)) for j in range(len(layers_here))]
        ax.annotate("", xy=(x, ys[0] - 0.35), xytext=(width / 2, -0.2), arrowprops={"arrowstyle": "->", "lw": 0.7})
        for j, (y, text) in enumerate(zip(ys, layers_here, strict=True)):
            node(x, y, text, _BRANCH_COLOURS[b])
            if j:
                ax.annotate(
                    "",
                    xy=(x, y - 0.3),
                    xytext=(x, ys[j - 1] + 0.3),
                    arrowprops={"arrowstyle": "->", "lw": 0.7},
                )
        ax.annotate(
            "",
            xy=(width / 2, depth + 0.6),
            xytext=(x, ys[-1] + 0.35),
            arrowprops={"arrowstyle": "->", "lw": 0.7},
        )
        params, macs = totals[b]
        ax.text(
            x,
            -1.45,
            f"{b} branch\n{format_count(macs)} MACs\n{format_count(params)} params",
            ha="center",
            va="center",
            fontsize=10,
            color="#222222",
        )
    total_p = sum(p for p, _ in totals.values())
    total_m = sum(m for _, m in totals.values())
    heading = title or module
    ax.set_title(f"{heading}\n{format_count(total_m)} multiply-adds, {format_count(total_p)} parameters", fontsize=11)
    fig.tight_layout()
    return fig


def _shape(tensor) -> str:
    return "x".join(str(int(d)) for d in tensor.shape[1:])


def module_widths_of(model: keras.Model, module: str) -> tuple[int, int, int, int, int, int]:
    """Table 1's six widths of a module, read from its layers (plain or fused builds).

    Args:
        model: a built functional model.
        module: the module's name (its concatenation layer).
    """
    names = {layer.name: layer for layer in model.layers}
    if f"{module}_split" in names:  # a fused build: one 1x1 convolution split three ways
        f1, r3, r5 = names[f"{module}_split"].sizes
    else:
        f1, r3, r5 = (names[f"{module}_{part}"].filters for part in ("1x1", "3x3_reduce", "5x5_reduce"))
    f3, f5, pp = (names[f"{module}_{part}"].filters for part in ("3x3", "5x5", "pool_proj"))
    return f1, r3, f3, r5, f5, pp


def _head_description(model: keras.Model, head: str) -> str:
    names = {layer.name: layer for layer in model.layers}
    pool = names.get(f"{head}_pool")
    parts = [f"{pool.pool_size[0]}x{pool.pool_size[1]}/{pool.strides[0]} avg pool" if pool else "global avg pool"]
    if f"{head}_conv" in names:
        parts.append(f"1x1 conv {names[f'{head}_conv'].filters}")
    if f"{head}_fc" in names:
        parts.append(f"FC {names[f'{head}_fc'].units}")
    if f"{head}_dropout" in names:
        parts.append(f"dropout {names[f'{head}_dropout'].rate:.0%}")
    lines = [" → ".join(parts[i : i + 2]) for i in range(0, len(parts), 2)]  # two steps a line
    return f"{head}:\n" + "\n→ ".join(lines)


def _rows(model: keras.Model) -> list[tuple[str, str, str, str | None]]:
    """(kind, label, output shape, auxiliary head read from here) of each stage of the main path."""
    modules = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Concatenate)]
    heads: dict[str, str] = {}  # module -> the auxiliary head that reads its output
    for entry in model.get_config()["layers"]:
        head = entry["name"].split("_")[0]
        if head.startswith("aux") and head not in heads.values():
            for source in inbound_layer_names(entry):
                if source in modules:
                    heads[source] = head
    rows = []
    for layer in model.layers:
        name = layer.name
        if name.startswith("aux") or any(name.startswith(f"{m}_") for m in modules):
            continue
        shape = _shape(layer.output) if not isinstance(layer, keras.layers.InputLayer) else ""
        if name in modules:
            head = heads.get(name)
            rows.append(("module", name, shape, _head_description(model, head) if head else None))
        elif isinstance(layer, keras.layers.Conv2D):
            k, s = layer.kernel_size, layer.strides[0]
            rows.append(("conv", f"{name}: conv {k[0]}x{k[1]}{f'/{s}' if s > 1 else ''}, {layer.filters}", shape, None))
        elif isinstance(layer, keras.layers.MaxPooling2D | keras.layers.AveragePooling2D):
            p, s = layer.pool_size, layer.strides[0]
            rows.append(("pool", f"{name}: max pool {p[0]}x{p[1]}/{s}", shape, None))
        elif type(layer).__name__ == "LocalResponseNormalization":
            rows.append(("other", f"{name}: local response normalisation", shape, None))
        elif isinstance(layer, keras.layers.GlobalAveragePooling2D):
            rows.append(("other", f"{name}: global average pool", shape, None))
        elif isinstance(layer, keras.layers.Dropout):
            rows.append(("other", f"{name}: dropout {layer.rate:.0%}", shape, None))
        elif isinstance(layer, keras.layers.Dense):
            rows.append(("other", f"{name}: linear {layer.units}", shape, None))
    return rows


_KIND_COLOURS = {"conv": "#dde7f3", "pool": "#eeeeee", "other": "#f4f4f4"}
_MODULE_BRANCH_COLOURS = ("#cfe3f7", "#d5efd0", "#fbe0c3", "#e6dcf3")


def draw_network(model: keras.Model, title: str | None = None) -> plt.Figure:
    """A vertical strip of a network's stages, read from a built model.

    Each stem layer is one box (batch norm and ReLU folded into their convolution); each
    inception module is a row of its four branches' widths, one column per branch, the column's
    heading saying which (#1x1; #3x3 reduce → #3x3; #5x5 reduce → #5x5; pool → proj); the output
    size of every stage follows, and an auxiliary head is described beside the module it reads.
    The figure is 7 inches wide, the site's column, so its text is shown at its size.

    Args:
        model: a built functional model with inception modules (the paper's GoogLeNet, the
            improved build, the study note's functional twin).
        title: the figure's title.
    """
    rows = _rows(model)
    if not any(kind == "module" for kind, *_ in rows):
        raise ValueError(f"model {model.name!r} has no inception modules (Concatenate layers) to draw")
    fig, ax = plt.subplots(figsize=(7.0, 0.34 * len(rows) + 1.1))  # 7 in: the site's column
    ax.set_xlim(0, 10)
    ax.set_ylim(len(rows) - 0.4, -1.6)
    ax.axis("off")
    box = {"boxstyle": "round,pad=0.22", "edgecolor": "#555555", "linewidth": 0.6}
    branch_x = (0.75, 1.6, 3.0, 4.4)  # one column per branch, its kind in the heading
    headings = ("#1x1", "#3x3 reduce\n→ #3x3", "#5x5 reduce\n→ #5x5", "pool\n→ proj")
    header = {"ha": "left", "va": "center", "fontsize": 9, "style": "italic"}
    ax.text(0.0, -0.9, "stage", **header)
    for x, heading in zip(branch_x, headings, strict=True):
        ax.text(x, -0.9, heading, **header)
    ax.text(5.6, -0.9, "output", **header)
    ax.text(7.0, -0.9, "auxiliary head", **header)
    for y, (kind, label, shape, head) in enumerate(rows):
        if kind == "module":
            f1, r3, f3, r5, f5, pp = module_widths_of(model, label)
            ax.text(0.0, y, label.replace("inception_", ""), ha="left", va="center", fontsize=10, weight="bold")
            texts = (f"{f1}", f"{r3} → {f3}", f"{r5} → {f5}", f"{pp}")
            for x, text, colour in zip(branch_x, texts, _MODULE_BRANCH_COLOURS, strict=True):
                ax.text(x, y, text, ha="left", va="center", fontsize=9.5, bbox={**box, "facecolor": colour})
        else:
            ax.text(0.0, y, label, ha="left", va="center", fontsize=9, bbox={**box, "facecolor": _KIND_COLOURS[kind]})
        ax.text(5.6, y, shape, ha="left", va="center", fontsize=9.5, color="#222222")
        if head:
            ax.text(7.0, y, head, ha="left", va="center", fontsize=8.5, color="#8a4500")
    if title:
        ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return fig
