"""Reading a rendered report: its files, links, scripts and attributes, with html.parser."""

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path


@dataclass
class Parsed:
    """What one HTML file holds that the safety checks look at."""

    links: list[dict[str, str | None]] = field(default_factory=list)  # attrs of <a href>
    sources: list[str] = field(default_factory=list)  # src of <script>, <img>, href of <link>
    scripts: list[dict[str, str | None]] = field(default_factory=list)
    handlers: list[str] = field(default_factory=list)  # on* attributes anywhere
    ids: set[str] = field(default_factory=set)
    csp: list[str] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = Parsed()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found, named = self.found, dict(attrs)
        found.tags.add(tag)
        found.handlers.extend(f"{tag} {k}" for k, _ in attrs if k.startswith("on"))
        if named.get("id"):
            found.ids.add(str(named["id"]))
        if tag == "a" and "href" in named:
            found.links.append(named)
        if tag == "script":
            found.scripts.append(named)
        if tag in ("script", "img", "iframe", "embed") and named.get("src"):
            found.sources.append(str(named["src"]))
        if tag == "link" and named.get("href"):
            found.sources.append(str(named["href"]))
        if tag == "meta" and (named.get("http-equiv") or "").lower() == "content-security-policy":
            found.csp.append(str(named.get("content")))


def parse(html: str) -> Parsed:
    """The parts of `html` the checks need."""
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser.found


def html_files(folder: Path) -> list[Path]:
    """Every HTML page of a report."""
    return sorted(folder.glob("*.html"))
