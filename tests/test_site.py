"""The built site in a real browser, offline (run after `jupyter-book build .`)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
import sitecheck

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
TOC = ROOT / "_toc.yml"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "_build" / "screenshots"))

pytestmark = [
    pytest.mark.skipif(
        not (HTML / "index.html").exists(),
        reason="build the site first: jupyter-book build .",
    ),
    pytest.mark.skipif(not Path(sitecheck.CHROMIUM).exists(), reason="apt-get install chromium"),
]


def test_every_page_loads_clean_offline():
    started = time.perf_counter()
    report = sitecheck.check_site(HTML, TOC, SCREENSHOTS)
    elapsed = time.perf_counter() - started
    print(f"checked {len(report.pages)} pages in {elapsed:.1f} s; screenshots in {SCREENSHOTS}")
    assert len(report.pages) >= 3
    assert report.problems == []
    assert len(report.screenshots) == len(report.pages) == len(report.dark_screenshots)


@pytest.mark.parametrize(
    "query, expected",
    [("inception", "book/02_naive_inception"), ("bottleneck", "book/04_bottleneck")],
)
def test_search_finds_chapters(query, expected):
    hits = sitecheck.search_hits(HTML, query)
    assert any(expected in hit for hit in hits), hits


def test_deliberately_broken_copy_is_caught(tmp_path):
    broken = tmp_path / "html"
    shutil.copytree(HTML, broken)
    page = broken / "book" / "02_naive_inception.html"
    text = page.read_text()
    # 1. a missing image
    images = sorted((broken / "_images").glob("*.png"))
    used = next(img for img in images if img.name in text)
    used.unlink()
    # 2. a broken internal link
    text = text.replace("</article>", '<a href="no-such-chapter.html">gone</a></article>', 1)
    # 3. a script loaded from the network
    text = text.replace("</head>", '<script src="https://cdn.example.com/lib.js"></script></head>', 1)
    page.write_text(text)
    problems = sitecheck.check_site(broken, TOC).problems
    joined = "\n".join(problems)
    assert "image did not load: " in joined and used.name in joined
    assert "broken link" in joined and "no-such-chapter.html" in joined
    assert "request left 127.0.0.1: https://cdn.example.com/lib.js" in joined
