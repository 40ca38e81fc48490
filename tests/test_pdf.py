"""The PDF edition read as a reader would: every chapter, every figure, no broken references.

Needs `make pdf` (`make site` runs it where TeX Live is installed). The LaTeX log is checked for
missing glyphs (none allowed) and for lines that run into the margin: an overfull box wider than
MAX_OVERFULL_PT is text or code cut off at the page's edge, which a reader would notice; below
it, TeX's own slack (a fraction of a point) is invisible in print.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PDF = ROOT / "_build" / "latex" / "building-googlenet.pdf"
LOG = PDF.with_suffix(".log")
MAX_OVERFULL_PT = 10.0  # 10pt is about two characters of the body text

pytestmark = pytest.mark.skipif(shutil.which("xelatex") is None, reason="no TeX Live: make pdf cannot run here")


def _chapters() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    return [next(ROOT.glob(f"{name}.*")) for name in files]


def _title(path: Path) -> str:
    if path.suffix == ".ipynb":
        import json

        cells = json.loads(path.read_text())["cells"]
        source = "".join(next(c for c in cells if c["cell_type"] == "markdown")["source"])
    else:
        source = path.read_text()
    return next(line[2:].strip() for line in source.splitlines() if line.startswith("# "))


@pytest.fixture(scope="module")
def text() -> str:
    assert PDF.exists(), "no PDF: run make pdf"
    return subprocess.run(["pdftotext", "-layout", PDF, "-"], capture_output=True, text=True, check=True).stdout


def test_every_chapter_is_in_the_pdf(text):
    flat = " ".join(text.split()).lower().replace("\u2019", "'")  # LaTeX typesets ' as a curly quote
    missing = [_title(p) for p in _chapters() if " ".join(_title(p).split()).lower() not in flat]
    assert not missing, f"chapter titles missing from the PDF: {missing}"


def test_no_unresolved_references_or_glue_sources(text):
    assert "??" not in text
    assert "glue:text" not in text and "{glue:" not in text


def test_every_figure_is_embedded():
    figures = sum(p.read_text().count("{glue:figure}") for p in (ROOT / "book").glob("*.ipynb"))
    listing = subprocess.run(["pdfimages", "-list", PDF], capture_output=True, text=True, check=True).stdout
    images = [line for line in listing.splitlines()[2:] if line.split()[2] == "image"]
    assert len(images) >= figures > 0


def test_the_latex_log_has_no_missing_glyphs_or_text_in_the_margin():
    log = LOG.read_text(errors="replace")
    assert "Missing character" not in log
    overfull = [float(w) for w in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert not [w for w in overfull if w > MAX_OVERFULL_PT], overfull
