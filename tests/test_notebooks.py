"""Every chapter opened where the book's package is missing stops at its first cell and says how to install it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = sorted(BOOK.glob("*.ipynb"))


def first_code_cell(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "".join(next(c for c in cells if c["cell_type"] == "code")["source"])


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_first_cell_without_the_package_explains_the_install(chapter):
    source = first_code_cell(chapter)
    assert source.startswith("try:\n    import googlenet as gn\n"), "the package import must come first"
    # -S: no site-packages, so neither the package nor anything else installed can be imported.
    done = subprocess.run([sys.executable, "-S", "-c", source], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "ModuleNotFoundError: This chapter needs the book's package `googlenet`" in done.stderr
    assert "make book" in done.stderr and "pip install -e code" in done.stderr
    assert "googlenet_book-<version>-py3-none-any.whl[notebooks]" in done.stderr
