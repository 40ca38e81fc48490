"""Check a built Jupyter Book the way a reader's browser sees it, offline.

`check_site` serves a built `_build/html` folder on 127.0.0.1, opens every page of the table of
contents in headless Chromium (Debian's, driven by Playwright; no browser is downloaded), and
returns a list of problems: HTTP errors, console errors, requests leaving 127.0.0.1, images that
did not load, untypeset math, broken internal links or anchors, a missing notebook download.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage", "--disable-sync",
]  # fmt: skip


def toc_pages(toc_file: Path) -> list[str]:
    """The HTML path of every document in a jb-book `_toc.yml`, root first."""
    toc = yaml.safe_load(Path(toc_file).read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [f"{name}.html" for name in files]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port) for the duration of the block."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Report:
    pages: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    screenshots: list[Path] = field(default_factory=list)
    dark_screenshots: list[Path] = field(default_factory=list)


_ANCHOR_CACHE: dict[str, str] = {}


def _fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, ""


def _check_link(base: str, url: str) -> str | None:
    target, _, fragment = url.partition("#")
    if not target.startswith(base):
        return None
    if target not in _ANCHOR_CACHE:
        status, body = _fetch(target)
        if status != 200:
            return f"broken link {url} (HTTP {status})"
        _ANCHOR_CACHE[target] = body
    body = _ANCHOR_CACHE[target]
    if fragment:
        fragment = urllib.parse.unquote(fragment)
        if not re.search(rf'id=["\']{re.escape(fragment)}["\']', body):
            return f"broken anchor {url}"
    return None


def check_site(html_dir: Path, toc_file: Path, screenshot_dir: Path | None = None) -> Report:
    """Open every page of the book in Chromium and collect what a reader would stumble on."""
    from playwright.sync_api import sync_playwright

    report = Report(pages=toc_pages(toc_file))
    _ANCHOR_CACHE.clear()
    with serve(Path(html_dir)) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        outside: list[str] = []

        def route(r):
            if urllib.parse.urlparse(r.request.url).hostname == "127.0.0.1":
                return r.continue_()
            outside.append(r.request.url)
            return r.abort()

        context.route("**/*", route)
        for page_path in report.pages:
            page = context.new_page()
            errors: list[str] = []
            page.on(
                "console",
                lambda msg, errors=errors: errors.append(msg.text) if msg.type == "error" else None,
            )
            page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
            failed: list[str] = []
            page.on("requestfailed", lambda req, failed=failed: failed.append(req.url))
            missing: list[str] = []  # answered, but with an error (a 404 for a favicon, a script...)
            page.on("response", lambda res, missing=missing: missing.append(res.url) if res.status >= 400 else None)
            outside.clear()
            response = page.goto(base + page_path, wait_until="load")
            if response is None or response.status != 200:
                report.problems.append(f"{page_path}: HTTP {response.status if response else 'no response'}")
                page.close()
                continue
            page.wait_for_timeout(300)  # let deferred scripts run and report errors
            has_math = page.evaluate("document.querySelectorAll('.math, div.math, span.math').length") > 0
            if has_math:
                try:
                    page.wait_for_function(
                        "window.MathJax && MathJax.startup && MathJax.startup.promise",
                        timeout=10000,
                    )
                    page.evaluate("MathJax.startup.promise")
                except Exception as exc:  # noqa: BLE001 - reported as a problem
                    report.problems.append(f"{page_path}: MathJax did not start ({exc.__class__.__name__})")
                typeset = page.evaluate("document.querySelectorAll('mjx-container').length")
                raw = page.evaluate(
                    "Array.from(document.querySelectorAll('.math')).filter(e => !e.querySelector('mjx-container'))"
                    ".map(e => e.textContent.slice(0, 40))"
                )
                if typeset == 0 or raw:
                    report.problems.append(f"{page_path}: untypeset math {raw[:3]}")
            broken_images = page.evaluate(
                "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
            )
            for src in broken_images:
                report.problems.append(f"{page_path}: image did not load: {src}")
            for message in errors:
                report.problems.append(f"{page_path}: console error: {message[:200]}")
            for url in sorted(set(outside)):
                report.problems.append(f"{page_path}: request left 127.0.0.1: {url}")
            for url in sorted(set(failed) - set(outside)):
                report.problems.append(f"{page_path}: request failed: {url}")
            for url in sorted(set(missing)):
                report.problems.append(f"{page_path}: HTTP error for {url}")
            links = page.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
            for url in sorted(set(links)):
                problem = _check_link(base, url)
                if problem:
                    report.problems.append(f"{page_path}: {problem}")
            notebook = Path(html_dir, "_sources", page_path).with_suffix(".ipynb")
            if page_path.startswith("book/") and notebook.exists() and not any(u.endswith(".ipynb") for u in links):
                report.problems.append(f"{page_path}: no .ipynb download link")
            # What does not fit the content column at this width: code or output a reader would scroll, tables cut off
            wide = page.evaluate(
                """() => {
                  const over = e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1;  // shown, and scrolls
                  const code = [...document.querySelectorAll('article pre')].filter(over);  // inputs, outputs, text
                  const tables = [...document.querySelectorAll('article table')].filter(
                    t => t.getBoundingClientRect().width > document.querySelector('article').clientWidth + 1
                      || (t.parentElement && over(t.parentElement)));
                  return {code: code.map(e => e.textContent.split('\\n').find(l => l.length > 88) || ''),
                          tables: tables.map(t => t.textContent.trim().replace(/\\s+/g, ' ').slice(0, 50))};
                }"""
            )
            for line in wide["code"]:
                report.problems.append(f"{page_path}: a code block is wider than the column: {line[:60]!r}")
            for head in wide["tables"]:
                report.problems.append(f"{page_path}: a table is wider than the column (it starts {head!r})")
            if screenshot_dir is not None:
                shot = Path(screenshot_dir) / (page_path.replace("/", "_").removesuffix(".html") + ".png")
                shot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shot), full_page=True)
                report.screenshots.append(shot)
                # The theme's dark mode, as a reader who prefers it sees the page
                page.evaluate(
                    "document.documentElement.dataset.theme = 'dark'; document.documentElement.dataset.mode = 'dark'"
                )
                dark = shot.with_name(shot.stem + "_dark.png")
                page.screenshot(path=str(dark), full_page=True)
                report.dark_screenshots.append(dark)
                if page.evaluate("getComputedStyle(document.body).backgroundColor") in (
                    "rgb(255, 255, 255)",
                    "rgba(0, 0, 0, 0)",
                ):
                    report.problems.append(f"{page_path}: dark mode did not take effect (white page background)")
            page.close()
        browser.close()
    return report


def search_hits(html_dir: Path, query: str) -> list[str]:
    """The result links the site's own search page shows for ``query``."""
    from playwright.sync_api import sync_playwright

    with serve(Path(html_dir)) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{base}search.html?q={urllib.parse.quote(query)}", wait_until="load")
        page.wait_for_function(
            "document.querySelectorAll('#search-results li, ul.search li').length > 0", timeout=20000
        )
        hits = page.evaluate("Array.from(document.querySelectorAll('ul.search li a')).map(a => a.getAttribute('href'))")
        browser.close()
    return hits
