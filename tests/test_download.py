"""A chapter downloaded from the built site runs outside the repository with only the site's wheel.

The test builds nothing: it needs `make site` (which builds the wheel into _build/dist and the
site, whose front page links the wheel). It creates a fresh virtual environment, installs the
wheel the site offers with its ``notebooks`` extra (versions held to requirements.txt's pins, so
pip takes what the clone's own environment already fetched), copies a chapter's notebook as the
site serves it into an empty folder, and executes it with nbclient in that environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CHAPTER = "02_naive_inception"  # needs the package only: no data set, no shipped runs

pytestmark = pytest.mark.skipif(not (HTML / "index.html").exists(), reason="needs a built site (make site)")

RUN = """
import json, sys
import nbclient, nbformat
notebook = nbformat.read(sys.argv[1], as_version=4)
nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
outputs = [
    [o.get("text") or o.get("data", {}).get("text/plain") for o in cell.get("outputs", [])]
    for cell in notebook.cells if cell.cell_type == "code"
]
json.dump(outputs, open(sys.argv[2], "w"))
"""


def _text_outputs(notebook: dict) -> list[list]:
    def text(output: dict):
        value = output.get("text") or output.get("data", {}).get("text/plain")
        return "".join(value) if isinstance(value, list) else value

    return [[text(o) for o in cell.get("outputs", [])] for cell in notebook["cells"] if cell["cell_type"] == "code"]


def offered_wheel() -> Path:
    wheels = sorted(HTML.glob("_downloads/*/googlenet_book-*.whl"))
    assert len(wheels) == 1, f"the site should offer exactly one wheel, found {wheels}"
    return wheels[0]


def test_the_site_offers_the_current_wheel_from_its_front_page():
    import googlenet

    wheel = offered_wheel()
    assert wheel.name == f"googlenet_book-{googlenet.__version__}-py3-none-any.whl"
    assert f"_downloads/{wheel.parent.name}/{wheel.name}" in (HTML / "book" / "intro.html").read_text()


def test_a_downloaded_chapter_runs_with_only_the_wheel(tmp_path):
    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line and line[0].isalnum()]
    (tmp_path / "constraints.txt").write_text("\n".join(pins) + "\n")
    python = env / "bin" / "python"
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "-c",
            tmp_path / "constraints.txt",
            f"{offered_wheel()}[notebooks]",
        ],
        check=True,
        timeout=900,
    )
    folder = tmp_path / "downloaded"  # nowhere near the clone: the package must come from the wheel
    folder.mkdir()
    served = HTML / "_sources" / "book" / f"{CHAPTER}.ipynb"
    notebook = folder / served.name
    notebook.write_bytes(served.read_bytes())
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GOOGLENET_RESULTS", "VIRTUAL_ENV")}
    clean_env |= {"PATH": f"{env / 'bin'}:{clean_env['PATH']}", "TF_CPP_MIN_LOG_LEVEL": "3"}
    where = subprocess.run(
        [python, "-c", "import googlenet; print(googlenet.__file__)"], capture_output=True, text=True, env=clean_env
    )
    assert str(env) in where.stdout, where  # the installed wheel, not the clone's editable package
    result = tmp_path / "outputs.json"
    subprocess.run([python, "-c", RUN, notebook, result], check=True, cwd=folder, env=clean_env, timeout=600)
    committed = _text_outputs(json.loads((ROOT / "book" / f"{CHAPTER}.ipynb").read_text()))
    assert json.loads(result.read_text()) == committed  # every text output as committed (exact facts)
