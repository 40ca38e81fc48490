"""Local Sphinx extension: keep every page's <script> list clean and offline.

Jupyter Book 1's stack registers some scripts once per read phase (sphinx-thebe's configuration,
togglebutton's selector) and myst-nb adds per-notebook scripts (MathJax) globally, so pages end
up loading MathJax twice and redeclaring `const THEBE_JS_URL`, which the browser reports as
console errors. This extension drops exact duplicates, and drops sphinx-thebe altogether: the
book has no live-code buttons, and thebe would load its bundle from a CDN.
"""

from __future__ import annotations


def _is_thebe(script) -> bool:
    filename = getattr(script, "filename", None) or str(script)
    body = (getattr(script, "attributes", None) or {}).get("body", "")
    return "sphinx-thebe" in str(filename) or "THEBE_JS_URL" in body


def clean_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        key = (
            str(getattr(script, "filename", None) or script),
            tuple(
                sorted(
                    (k, str(v))
                    for k, v in (getattr(script, "attributes", None) or {}).items()
                    if k not in ("defer", "async")
                )
            ),
        )
        if key in seen or _is_thebe(script):
            continue
        seen.add(key)
        kept.append(script)
    scripts[:] = kept


def setup(app):
    app.connect("html-page-context", clean_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
