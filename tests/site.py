"""The one test site: a small news site served by a real HTTP server on 127.0.0.1.

Every test that needs a web site serves this module's handler. `serve_site()` answers the
article pages of PAGES, generated articles under /gen/, and committee reports under
/page/<name> at once and under /gate/<name> only once the test opens `site.gate`: a run
fetching a gated page is held mid-fetch for as long as the test wants, with no timing
guesses. `serve_site(answer)` serves other pages through the same handler (the changing
site of tests/changing_site.py).
"""

import contextlib
import html
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
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


# A page whose main text carries markup as text (escaped in the HTML, so the extracted
# text holds it literally): whatever shows it must show it as text, never run it (issue 19).
HOSTILE_MARKER = "data-pwned"
HOSTILE = [
    "Readers sent us this snippet, which we print here as plain text for the record: "
    "<script>alert(1)</script> and <script>document.title='PWNED'</script> must never run "
    "anywhere that shows this article.",
    "Another reader sent an image tag with a handler, <img src=x onerror=\"document.body"
    ".setAttribute('data-pwned','1')\">, which is text as well, and so is this link: "
    "<a href=\"javascript:document.body.setAttribute('data-pwned','2')\">click me</a>.",
    "And a style block, <style>body{display:none}</style>, that would hide the page if it "
    "were read as markup rather than printed as the words of a letter to the editor.",
    "The editors thank every reader who wrote in about the security talks in Geneva this "
    "week, and will publish a selection of the letters in the weekend edition.",
]
HOSTILE_TITLE = "<script>document.title='PWNED'</script>Letters about the talks"


def hostile(paragraphs: list[str]) -> str:
    """The hostile article: its markup escaped in the HTML, so it is text in the page."""
    return article(html.escape(HOSTILE_TITLE), "Letters Desk", "2022-01-15",
                   [html.escape(p) for p in paragraphs],
                   "<script>document.title='PWNED'</script>")


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
    "/letters/hostile": (200, "text/html; charset=utf-8", hostile(HOSTILE)),
    # A near-copy: one word changed, so the two form a duplicate cluster.
    "/letters/hostile-copy": (
        200, "text/html; charset=utf-8",
        hostile([HOSTILE[0].replace("Readers sent", "Viewers sent"), *HOSTILE[1:]]),
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
    key = name.removesuffix("-copy")
    rng = random.Random(key)
    paragraphs = [
        " ".join(rng.choice(WORDS) for _ in range(40)).capitalize() + "." for _ in range(4)
    ]
    return article(f"Dispatch {key}", "Desk", "2022-02-01", [*paragraphs, SHARED_PARAGRAPH])


COMMITTEE = [
    "The {name} report describes how the committee reviewed the annual budget in detail "
    "and asked the ministry for a revised plan before the summer recess.",
    "Members of the committee from {name} said the revised plan should include the cost "
    "of new rail links and the maintenance of existing regional lines.",
    "A spokesperson for the ministry said the department would answer every question of "
    "the committee in writing within the next four weeks.",
]


def committee(name: str) -> str:
    """A committee report for /page/<name> and /gate/<name>, its text specific to `name`."""
    return article(
        f"Committee report {name}", "Test Desk", "2022-02-01",
        [p.format(name=name) for p in COMMITTEE],
    )


ROBOTS = "User-agent: *\nDisallow: /private/\n"


@dataclass(frozen=True, slots=True)
class Response:
    """What the site answers to one request."""

    status: int
    body: bytes
    ctype: str | None = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


NOT_FOUND = Response(404, b"not found", "text/html")


@dataclass
class Site:
    """The running test site: its base URL, a log of requested paths, and the gate."""

    base: str = ""
    requests: list[str] = field(default_factory=list)
    # Opened by the test; until then a held page (/gate/...) does not answer.
    gate: threading.Event = field(default_factory=threading.Event)
    # Set once a held page was asked for: the run is now waiting at the gate.
    requested: threading.Event = field(default_factory=threading.Event)
    max_hold: float = 120.0
    # (time.monotonic() at arrival, Host header, path) of every request, for politeness tests.
    access: list[tuple[float, str, str]] = field(default_factory=list)

    def url(self, path: str) -> str:
        """Absolute URL of a path on the site."""
        return self.base + path

    def hold(self) -> None:
        """Wait until the test opens the gate (at most `max_hold` seconds)."""
        self.requested.set()
        self.gate.wait(self.max_hold)


# The pages of a site: the answer to a GET of `path` with these request headers.
Answer = Callable[[Site, str, Message], Response]


def pages(site: Site, path: str, headers: Message) -> Response:
    """The test site's pages."""
    if path == "/moved":
        return Response(301, b"", None, (("Location", "/news/geneva-talks"),))
    if path.startswith("/gen/"):
        return Response(200, generated(path[5:]).encode("utf-8"))
    if path.startswith(("/gate/", "/page/")):
        if path.startswith("/gate/"):
            site.hold()
        return Response(200, committee(path.rsplit("/", 1)[-1]).encode("utf-8"))
    if path in PAGES:
        status, ctype, body = PAGES[path]
        return Response(status, body.encode("utf-8"), ctype)
    # Pages that change between runs (issue 16): each request of /live/<name> is a new
    # revision; /retracted/<name> answers once, then is gone.
    asked = site.requests.count(path)
    if path.startswith("/live/"):
        return Response(200, live(path.rsplit("/", 1)[-1], asked).encode("utf-8"))
    if path.startswith("/retracted/") and asked <= 1:
        return Response(200, committee("retracted " + path.rsplit("/", 1)[-1]).encode("utf-8"))
    return NOT_FOUND


def live(name: str, revision: int) -> str:
    """A live blog whose headline and latest entry change with every revision."""
    entries = [
        f"Entry {n} of the {name} live blog: delegates returned to the table after a recess "
        f"of {n * 15} minutes, and the chair read out the amended agenda for the session."
        for n in range(1, revision + 1)
    ]
    return article(f"Live: talks in Geneva, update {revision}", "Live Desk", "2022-02-01",
                   [f"The {name} live blog follows the talks as they happen.", *entries])


def _handler(site: Site, answer: Answer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.access.append((time.monotonic(), self.headers.get("Host", ""), self.path))
            site.requests.append(self.path)
            if self.path == "/robots.txt":
                reply = Response(200, ROBOTS.encode("utf-8"), "text/plain")
            else:
                reply = answer(site, self.path, self.headers)
            with contextlib.suppress(OSError):  # the client gave up on a held page
                _send(self, reply)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def _send(handler: BaseHTTPRequestHandler, reply: Response) -> None:
    handler.send_response(reply.status)
    if reply.ctype is not None:
        handler.send_header("Content-Type", reply.ctype)
    handler.send_header("Content-Length", str(len(reply.body)))
    for name, value in reply.headers:
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(reply.body)


@contextlib.contextmanager
def serve_site(answer: Answer = pages) -> Iterator[Site]:
    """Serve `answer` (the test site's pages) on a free 127.0.0.1 port for the block."""
    site = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site, answer))
    server.daemon_threads = True  # a held request must not keep the tests from ending
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.gate.set()  # release held requests so their threads end
        server.shutdown()
        server.server_close()
