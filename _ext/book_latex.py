"""Local Sphinx extension: long tables wrap inside the PDF's page.

Sphinx's LaTeX writer sets a table of more than 30 rows as a ``longtable`` whose columns are
``l`` (never broken), so a long table with a column of sentences runs off the page; a shorter
table is a ``tabulary``, which wraps. Chapter 9's tables of runs pass 30 rows as seeds are
added. For the LaTeX builder only, this gives such a table column widths in proportion to its
longest entry in each column (capped, so that one long sentence does not starve the others);
Sphinx then sets each column as a wrapping ``\\X`` column. The HTML site is unaffected.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

LONGTABLE_ROWS = 30
"""Sphinx's LaTeX writer uses longtable above this many rows (``Table.is_longtable``)."""
MAX_COLUMN_WEIGHT = 30
"""The most characters a column's width counts, so that sentences wrap instead of dominating."""
PADDING = 4
"""Characters added to every column's weight (the column's separators, a heading in capitals)."""


def column_weights(tgroup: nodes.tgroup) -> list[int]:
    """Each column's longest entry in characters (at most :data:`MAX_COLUMN_WEIGHT`), plus padding.

    The padding (:data:`PADDING` characters) keeps a short column wide enough for its heading,
    which LaTeX sets in capitals.

    Args:
        tgroup: the table's group of column specs, head and body.
    """
    count = sum(isinstance(child, nodes.colspec) for child in tgroup.children)
    longest = [0] * count
    for row in tgroup.findall(nodes.row):
        for i, entry in enumerate(e for e in row.children if isinstance(e, nodes.entry)):
            if i < count:
                longest[i] = max(longest[i], len(entry.astext()))
    return [min(width, MAX_COLUMN_WEIGHT) + PADDING for width in longest]


class WrapLongTables(SphinxPostTransform):
    """Give every table of more than :data:`LONGTABLE_ROWS` rows content-based column widths."""

    default_priority = 400
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        for table in self.document.findall(nodes.table):
            if "colwidths-given" in table["classes"]:
                continue
            for tgroup in table.findall(nodes.tgroup):
                if len(list(tgroup.findall(nodes.row))) <= LONGTABLE_ROWS:
                    continue
                specs = [child for child in tgroup.children if isinstance(child, nodes.colspec)]
                for spec, weight in zip(specs, column_weights(tgroup), strict=True):
                    spec["colwidth"] = weight
                table["classes"].append("colwidths-given")


def setup(app):
    app.add_post_transform(WrapLongTables)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
