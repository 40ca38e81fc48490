"""The bibliography labels its entries by author and year, as the chapters cite them."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from pybtex.database import Entry, Person

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
sys.path.insert(0, str(ROOT / "_ext"))

import book_bibliography  # noqa: E402  (the local extension, from _ext/)


def _entry(authors: list[str], year: str) -> Entry:
    return Entry("article", fields={"year": year, "title": "t"}, persons={"author": [Person(a) for a in authors]})


def test_labels_name_one_two_or_the_first_author_and_the_year():
    entries = [
        _entry(["Chollet, François"], "2017"),
        _entry(["Ioffe, Sergey", "Szegedy, Christian"], "2015"),
        _entry(["Szegedy, Christian", "Liu, Wei", "Jia, Yangqing"], "2015"),
        _entry(["van der Maaten, Laurens"], "2008"),
    ]
    labels = list(book_bibliography.AuthorYearLabelStyle().format_labels(entries))
    assert labels == ["Chollet 2017", "Ioffe and Szegedy 2015", "Szegedy et al. 2015", "van der Maaten 2008"]


def test_two_entries_with_one_label_get_letters():
    entries = [
        _entry(["Szegedy, C.", "Liu, W.", "Jia, Y."], "2015"),
        _entry(["Szegedy, C.", "Vanhoucke, V.", "Ioffe, S."], "2015"),
    ]
    labels = list(book_bibliography.AuthorYearLabelStyle().format_labels(entries))
    assert labels == ["Szegedy et al. 2015a", "Szegedy et al. 2015b"]


@pytest.mark.skipif(not (HTML / "book" / "bibliography.html").exists(), reason="build the site first")
def test_the_built_bibliography_has_author_year_labels_every_citation_reaches():
    page = (HTML / "book" / "bibliography.html").read_text(encoding="utf-8")
    labels = re.findall(r'class="label"><span class="fn-bracket">\[</span>([^<]*)<', page)
    assert labels, "no labelled entries on the bibliography page"
    bad = [label for label in labels if not re.fullmatch(r"[^\d\[\]]+ \d{4}[a-z]?", label)]
    assert bad == [], f"labels that are not 'Author(s) year': {bad}"
    ids = set(re.findall(r'id="([^"]+)"', page))
    cited = set()
    for chapter in (HTML / "book").glob("*.html"):
        cited |= set(re.findall(r'href="bibliography\.html#([^"]+)"', chapter.read_text(encoding="utf-8")))
    assert cited, "no chapter cites the bibliography"
    assert cited <= ids, f"citations pointing nowhere: {sorted(cited - ids)}"
