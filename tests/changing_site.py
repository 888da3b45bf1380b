"""A site whose pages change between nights by a seeded random script, on 127.0.0.1.

Real cited pages change: corrections, updates, a paragraph added or quietly removed,
a paragraph copied from another outlet, a new headline. `ChangingSite` holds the pages
of one site as (title, paragraphs) and `advance()` edits a third of them, each by one
of `EDITS`, the way a night between two runs does. It has families of near-duplicate
pages (a story and its reprints with a few words changed) and boilerplate every page
carries, so the dedup index, its pairs, clusters and passage repeats all see changes.

The server answers with an ETag and honours If-None-Match, so unchanged pages come back
304 on later nights, as from a real site.
"""

import contextlib
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

from tests.site import NOT_FOUND, Response, Site, article, serve_site

VOCABULARY = tuple(
    ["council", "minister", "border", "treaty", "summit", "energy", "grain", "pipeline", "sanctions", "envoy", "parliament", "ceasefire", "budget", "alliance", "harbour", "election", "reform", "coalition", "tariff", "drone", "satellite", "refugee", "corridor", "airspace", "garrison", "mandate", "inquiry", "verdict", "protest", "strike", "shortage", "talks", "delegation", "officials", "agreement", "capital", "region", "security", "statement", "negotiators", "report", "province", "committee", "observers", "ministry", "governor", "deadline", "proposal"]
)
BOILERPLATE = "Comments are closed for this article, in line with our moderation policy."
EDITS = ("words", "add", "remove", "reorder", "copy", "title")


def paragraph(rng: random.Random, words: int = 36) -> str:
    """A paragraph of `words` random vocabulary words (long enough to count as a repeat)."""
    return " ".join(rng.choice(VOCABULARY) for _ in range(words)).capitalize() + "."


def change_words(rng: random.Random, text: str, n: int) -> str:
    """`text` with `n` of its words replaced by other vocabulary words."""
    words = text.rstrip(".").split()
    for i in rng.sample(range(len(words)), min(n, len(words))):
        words[i] = rng.choice([w for w in VOCABULARY if w != words[i].lower()])
    return " ".join(words) + "."


@dataclass
class Page:
    """One article: its headline and its paragraphs, boilerplate excluded."""

    title: str
    paragraphs: list[str]

    def html(self) -> str:
        """The page as served."""
        return article(self.title, "Desk", "2022-02-01", [*self.paragraphs, BOILERPLATE])


@dataclass
class ChangingSite:
    """The pages of the site by path, the seeded edit script, and a log of what changed."""

    seed: int
    pages: dict[str, Page] = field(default_factory=dict)
    night: int = 1
    log: list[str] = field(default_factory=list)
    base: str = ""
    shape: tuple[int, int, int] = (0, 0, 0)

    @classmethod
    def create(cls, seed: int, families: int = 3, copies: int = 2, singles: int = 4) -> "ChangingSite":
        """A site of `families` stories with `copies` near-copies each, and `singles` others."""
        rng = random.Random(seed)
        site = cls(seed, shape=(families, copies, singles))
        for f in range(families):
            story = Page(f"Story {f}", [paragraph(rng) for _ in range(8)])
            site.pages[f"/story/{f}"] = story
            for c in range(copies):
                edited = [change_words(rng, p, 1) if i == c else p
                          for i, p in enumerate(story.paragraphs)]
                site.pages[f"/story/{f}-copy{c}"] = Page(story.title, edited)
        for s in range(singles):
            site.pages[f"/single/{s}"] = Page(f"Single {s}", [paragraph(rng) for _ in range(4)])
        return site

    def paths(self) -> list[str]:
        """Every page's path, sorted."""
        return sorted(self.pages)

    def url(self, path: str) -> str:
        """Absolute URL of a path on the running site."""
        return self.base + path

    def advance(self) -> None:
        """Move to the next night: a third of the pages get one edit each."""
        self.night += 1
        rng = random.Random(self.seed * 1000 + self.night)
        paths = self.paths()
        for path in sorted(rng.sample(paths, max(1, len(paths) // 3))):
            edit = rng.choice(EDITS)
            self._edit(rng, path, edit)
            self.log.append(f"night {self.night}: {path} {edit}")

    def rewind(self, night: int) -> None:
        """Put the pages back as they were on `night` (the script is deterministic)."""
        again = ChangingSite.create(self.seed, *self.shape)
        while again.night < night:
            again.advance()
        self.pages, self.night, self.log = again.pages, again.night, again.log

    def _edit(self, rng: random.Random, path: str, edit: str) -> None:
        page = self.pages[path]
        paras = page.paragraphs
        if edit == "words" and paras:
            i = rng.randrange(len(paras))
            paras[i] = change_words(rng, paras[i], rng.choice((1, 2, 5)))
        elif edit == "add":
            paras.insert(rng.randrange(len(paras) + 1), paragraph(rng))
        elif edit == "remove" and len(paras) > 1:
            del paras[rng.randrange(len(paras))]
        elif edit == "reorder" and len(paras) > 1:
            i, j = rng.sample(range(len(paras)), 2)
            paras[i], paras[j] = paras[j], paras[i]
        elif edit == "copy":
            other = self.pages[rng.choice([p for p in self.pages if p != path])]
            if other.paragraphs:
                paras.insert(rng.randrange(len(paras) + 1), rng.choice(other.paragraphs))
        else:  # "title", or an edit the page is too short for
            page.title = f"{page.title.split(' (')[0]} (update {self.night})"

    def answer(self, running: Site, path: str, headers: Message) -> Response:
        """The page at `path` as now, with its ETag; 304 when If-None-Match is that ETag."""
        page = self.pages.get(path)
        if page is None:
            return NOT_FOUND
        body = page.html().encode("utf-8")
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if headers.get("If-None-Match") == etag:
            return Response(304, b"", None, (("ETag", etag),))
        return Response(200, body, headers=(("ETag", etag),))

    def quotes(self, paths: list[str]) -> str:
        """Sentences quoting 20 words of the first paragraph of every third of these pages
        as they are now (later nights edit some of them), hard-wrapped."""
        said = []
        for path in paths[::3]:
            words = self.pages[path].paragraphs[0].rstrip(".").split()[:20]
            said.append(f"An official said \u201c{' '.join(words[:10])}\n{' '.join(words[10:])}\u201d.")
        return "\n".join(said)

    def write_seeds(self, folder: Path) -> Path:
        """Seed files citing every page (two seeds, one citing a page twice over)."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = self.paths()
        (folder / "a.txt").write_text(
            "Coverage of the talks.\n\n" + self.quotes(paths[::2]) + "\n\n"
            + "\n".join(self.url(p) for p in paths[::2]) + "\n"
        )
        (folder / "b.md").write_text(
            "# Sources\n\n" + "\n".join(f"- [{p}]({self.url(p)})" for p in [*paths[1::2], paths[0]])
            + "\n"
        )
        return folder


@contextlib.contextmanager
def serve(site: ChangingSite) -> Iterator[ChangingSite]:
    """Serve `site`'s current pages on a free 127.0.0.1 port for the block."""
    with serve_site(site.answer) as running:
        site.base = running.base
        yield site
