"""A small news site written for the tests, served by a real HTTP server on 127.0.0.1."""

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAV = """<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/politics">Politics</a></li><li><a href="/about">About us</a></li></ul></nav>"""
FOOTER = """<footer><p>© 2022 Daily Test Herald. All rights reserved.</p>
<p><a href="/privacy">Privacy</a> · <a href="/terms">Terms</a></p></footer>"""


def article(title: str, author: str, date: str, paragraphs: list[str], extra: str = "") -> str:
    """An article page with a headline, byline, paragraphs, navigation and footer."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | Daily Test Herald</title>
<meta name="author" content="{author}"><meta property="og:site_name" content="Daily Test Herald">
<meta property="article:published_time" content="{date}">{extra}</head>
<body>{NAV}<main><article><h1>{title}</h1><p class="byline">By {author}</p>
{body}</article></main>
<aside><h3>Most read</h3><ul><li><a href="/a/1">Markets rally</a></li></ul></aside>
{FOOTER}</body></html>"""


TALKS = [
    "Diplomats from Russia and the United States met in Geneva on Monday for talks on "
    "European security that both sides described as frank and difficult.",
    "The delegations discussed arms control, troop deployments near Ukraine and the "
    "future of the alliance's eastward expansion, officials said after the meeting.",
    "A senior official said the talks would continue in Brussels on Wednesday with "
    "representatives of all member states of the alliance.",
    "Observers noted that neither side announced any concessions, and that the "
    "positions remain far apart on the central questions of the negotiations.",
]
BORRELL = [
    "The European Union's top diplomat said any discussion of security in Europe must "
    "include the bloc, as talks between Washington and Moscow approached.",
    "He said the immediate priority was to avoid further escalation and to keep channels "
    "of communication open with all partners in the region.",
    "European security is our security, he told a German newspaper, adding that two "
    "states alone cannot negotiate the architecture of the continent.",
]

# A republished copy with a handful of words changed: a near-duplicate of the talks page.
TALKS_REPRINT = [
    TALKS[0].replace("on Monday", "on Monday morning"),
    TALKS[1],
    TALKS[2],
    TALKS[3],
]
COMMENTS_CLOSED = "Comments are closed for this article, in line with our moderation policy."


def opinion(topic: str) -> list[str]:
    """Three distinct paragraphs of an opinion piece on `topic`."""
    return [
        f"The debate about {topic} has returned to the centre of European politics this winter, "
        "and the arguments on each side have hardly changed in a generation.",
        f"Supporters of a firm line on {topic} point to the lessons of the last decade, while "
        "sceptics warn that firmness without dialogue has rarely produced results.",
        f"Whatever the outcome of the talks, {topic} will shape the budgets and the alliances "
        "of the continent for years, and voters deserve a clearer account of the choices.",
    ]

PAGES: dict[str, tuple[int, str, str]] = {
    "/reprint/geneva-talks": (
        200, "text/html; charset=utf-8",
        article("Geneva talks end without breakthrough", "Wire Staff", "2022-01-11",
                TALKS_REPRINT),
    ),
    "/copy/geneva-talks": (
        200, "text/html; charset=utf-8",
        article("Geneva talks end without breakthrough", "Anna Berger", "2022-01-10", TALKS),
    ),
    "/opinion/one": (
        200, "text/html; charset=utf-8",
        article("Why arms control matters", "Lea Roth", "2022-01-12",
                [*opinion("arms control"), COMMENTS_CLOSED]),
    ),
    "/opinion/three": (
        200, "text/html; charset=utf-8",
        article("Europe needs its own voice", "Lea Roth", "2022-01-14",
                [*opinion("European autonomy"), COMMENTS_CLOSED]),
    ),
    "/opinion/two": (
        200, "text/html; charset=utf-8",
        article("The alliance at a crossroads", "Lea Roth", "2022-01-13",
                [*opinion("the alliance"), COMMENTS_CLOSED]),
    ),
    "/news/geneva-talks": (
        200, "text/html; charset=utf-8",
        article("Geneva talks end without breakthrough", "Anna Berger", "2022-01-10", TALKS),
    ),
    "/news/borrell": (
        200, "text/html; charset=utf-8",
        article("EU must be at the table, Borrell says", "Jan Novak", "2022-01-03", BORRELL,
                '<link rel="canonical" href="/news/borrell-eu">'),
    ),
    "/news/links-on": (
        200, "text/html; charset=utf-8",
        article("What comes next after Geneva", "Anna Berger", "2022-01-11",
                [*TALKS[:2], 'Read our earlier report: <a href="/news/geneva-talks">'
                 "Geneva talks end without breakthrough</a>, and analysis of the week."]),
    ),
    "/missing": (404, "text/html", "<html><body><h1>Not found</h1></body></html>"),
    "/empty-article": (200, "text/html", "<html><head><title>x</title></head><body></body></html>"),
    "/report.pdf": (200, "application/pdf", "%PDF-1.4 fake"),
}


WORDS = ["council", "minister", "border", "treaty", "summit", "energy", "grain", "pipeline", "sanctions", "envoy", "parliament", "ceasefire", "budget", "alliance", "harbour", "election", "reform", "coalition", "tariff", "drone", "satellite", "refugee", "corridor", "airspace", "garrison", "mandate", "inquiry", "verdict", "protest", "strike", "shortage"]
SHARED_PARAGRAPH = (
    "This report was compiled by our correspondents with reporting from agencies in "
    "Geneva, Brussels and Moscow, and updated as the talks went on."
)


def generated(name: str) -> str:
    """A distinct article for /gen/<name>; /gen/<n>-copy is the same article as /gen/<n>."""
    import random

    key = name.removesuffix("-copy")
    rng = random.Random(key)
    paragraphs = [
        " ".join(rng.choice(WORDS) for _ in range(40)).capitalize() + "." for _ in range(4)
    ]
    return article(f"Dispatch {key}", "Desk", "2022-02-01", [*paragraphs, SHARED_PARAGRAPH])


@dataclass
class Site:
    """The running test site: its base URL and a log of requested paths."""

    base: str
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        """Absolute URL of a path on the site."""
        return self.base + path


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append(self.path)
            if self.path == "/robots.txt":
                self._send(200, "text/plain", "User-agent: *\nDisallow: /private/\n")
                return
            if self.path == "/moved":
                self.send_response(301)
                self.send_header("Location", "/news/geneva-talks")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path.startswith("/gen/"):
                self._send(200, "text/html; charset=utf-8", generated(self.path[5:]))
                return
            status, ctype, body = PAGES.get(self.path, (404, "text/html", "not found"))
            self._send(status, ctype, body)

        def _send(self, status: int, ctype: str, body: str) -> None:
            send(self, status, ctype, body.encode("utf-8"))

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def send(handler: BaseHTTPRequestHandler, status: int, ctype: str, data: bytes,
         headers: tuple[tuple[str, str], ...] = ()) -> None:
    """Answer with `data` as the body, its type and length, and any extra headers."""
    handler.send_response(status)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(data)))
    for name, value in headers:
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` on a free 127.0.0.1 port for the block; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def serve_site() -> Iterator[Site]:
    """Serve PAGES on a free 127.0.0.1 port for the duration of the block."""
    site = Site(base="")
    with serving(_handler(site)) as base:
        site.base = base
        yield site
