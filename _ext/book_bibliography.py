"""Local Sphinx extension: the bibliography labelled by author and year, as the text cites it.

The chapters cite author-year (``bibtex_reference_style: author_year``: "Szegedy et al. 2015"),
but pybtex's styles label bibliography entries with numbers or letters ("[1]", "[SLJ+15]"), so a
reader following a citation found a label the text never uses. This registers the ``plain``
style with author-year labels as the pybtex style ``author_year_plain``: an entry is labelled
"Lin", "Lin and Chen" or "Szegedy et al." followed by the year, with a, b... when two entries
would share a label.
"""

from __future__ import annotations

from collections import Counter

from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle


def _surnames(entry) -> list[str]:
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    return [" ".join(person.prelast_names + person.last_names) for person in people]


def _author_year(entry) -> str:
    names = _surnames(entry)
    year = entry.fields.get("year", "n.d.")
    if not names:
        who = entry.fields.get("title", entry.key)
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who} {year}"


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels "Surname year", "Surname and Surname year" or "Surname et al. year"."""

    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = [_author_year(entry) for entry in entries]
        counts, seen = Counter(labels), Counter()
        for label in labels:
            if counts[label] > 1:  # the same authors and year twice: 2014a, 2014b
                seen[label] += 1
                yield f"{label}{chr(ord('a') + seen[label] - 1)}"
            else:
                yield label


class AuthorYearPlainStyle(PlainStyle):
    """pybtex's ``plain`` entries (sorted by author, year, title) with author-year labels."""

    default_label_style = AuthorYearLabelStyle


def setup(app):
    register_plugin("pybtex.style.labels", "author_year", AuthorYearLabelStyle)
    register_plugin("pybtex.style.formatting", "author_year_plain", AuthorYearPlainStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
