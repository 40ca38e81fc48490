"""The README's make commands fail clearly, and change nothing, when no usable Python is given."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize("python, message", [("", "no Python found"), ("/bin/false", "is not a usable Python 3.11")])
def test_make_without_a_usable_python_says_what_is_missing(tmp_path, python, message):
    venv = tmp_path / "venv"
    done = subprocess.run(
        ["make", "-s", "-C", str(REPO), "book", f"PYTHON={python}", f"VENV={venv}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert message in done.stderr and "PYTHON=/path/to/python3.11" in done.stderr
    assert not venv.exists()
