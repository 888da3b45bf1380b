"""Jinja2 rendering of the report's pages, every value autoescaped; the static files.

All text shown comes from fetched pages and is untrusted: templates never mark it safe,
links to fetched pages keep only http(s) URLs (`href`), and the Content-Security-Policy
of every page lets run only the report's own script file (report/static/report.js).
"""

import json
from collections.abc import Sequence
from datetime import datetime
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from report.records import SearchEntry

# Scripts only from the report's own files (no inline script, no handler attribute, no
# eval), styles only from its stylesheet, nothing fetched from anywhere (RFC-less but
# https://www.w3.org/TR/CSP3/); a <meta> CSP cannot set frame-ancestors, so it is left out.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'"
)
STATIC = ("report.css", "report.js")
# Longest URL linked; a longer one is shown as text only.
MAX_HREF = 2_000

NAV = (
    ("overview", "index.html", "Overview"),
    ("clusters", "clusters.html", "Duplicate clusters"),
    ("passages", "passages.html", "Repeated passages"),
    ("changes", "changes.html", "Page changes"),
    ("quotes", "quotes.html", "Quote checks"),
    ("failures", "failures.html", "Fetch failures"),
    ("search", "search.html", "Search"),
)


def http_href(url: object) -> str | None:
    """`url` when it is an absolute http(s) URL fit to link to, else None."""
    if not isinstance(url, str) or len(url) > MAX_HREF or any(c in url for c in "\r\n\t\0"):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


def short(value: object, width: int = 120) -> str:
    """One line of at most `width` characters."""
    text = " ".join(str(value or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def when(value: object) -> str:
    """A timestamp as 'YYYY-MM-DD HH:MM UTC' (empty for none)."""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    return "" if value is None else str(value)


def environment() -> Environment:
    """The templates of report/templates, autoescaped (HTML and SVG alike)."""
    env = Environment(
        loader=PackageLoader("report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(href=http_href, short=short, when=when)
    return env


class Renderer:
    """Writes the pages of one report into `folder`."""

    def __init__(self, folder: Path, db: str, built_at: datetime, quotes: bool) -> None:
        self.folder = folder
        self.env = environment()
        self.common = {"db": db, "built_at": when(built_at), "nav": NAV, "csp": CSP,
                       "has_quotes": quotes}

    def page(self, template: str, name: str, kind: str, **context: object) -> None:
        """Render `template` with `context` into the file `name`."""
        html = self.env.get_template(template).render(kind=kind, **self.common, **context)
        (self.folder / name).write_text(html, encoding="utf-8")

    def static(self) -> None:
        """Copy the stylesheet and the script beside the pages."""
        files = resources.files("report").joinpath("static")
        for name in STATIC:
            (self.folder / name).write_bytes(files.joinpath(name).read_bytes())

    def search_index(self, entries: Sequence[SearchEntry], shard_bytes: int) -> list[str]:
        """Write the search index as script files of about `shard_bytes`; their names.

        Each file is data only: `reciteIndex.push([...])` of JSON rows [url, title, kind,
        href] (JSON is a JavaScript literal; ASCII-escaped, it cannot end the string).
        """
        names: list[str] = []
        rows: list[str] = []
        size = 0
        for entry in entries:
            row = json.dumps([entry.url, entry.title, entry.kind, entry.href], ensure_ascii=True)
            if rows and size + len(row) > shard_bytes:
                names.append(self._shard(len(names), rows))
                rows, size = [], 0
            rows.append(row)
            size += len(row) + 2
        if rows or not names:
            names.append(self._shard(len(names), rows))
        return names

    def _shard(self, number: int, rows: Sequence[str]) -> str:
        name = f"search-index-{number + 1}.js"
        body = ",\n".join(rows)
        (self.folder / name).write_text(
            f"window.reciteIndex = window.reciteIndex || [];\nwindow.reciteIndex.push([\n{body}\n]);\n",
            encoding="ascii",
        )
        return name
