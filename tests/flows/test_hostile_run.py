"""The real `ingest` flow against a hostile web: every misbehaviour ends in one recorded outcome.

The misbehaving raw-socket server of the fetching tests serves ~40 endpoints. The
address guard stays ON: test host names resolve through the fake DNS of the fetching
tests to a public-looking address and connections are routed to 127.0.0.1
(tests/fetching/conftest.py), so DNS failures and private answers are exercised too.
"""

import asyncio
import contextlib
import gzip
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from cli.main import app
from extractors.urls import normalize_url
from fetching import FetchConfig, Fetcher, Outcome, make_client
from flows import resources
from flows.ingest import ingest
from flows.settings import IngestParameters
from pipeline.summary import RunSummary
from storage.codec import decompress_body
from tests.fetching.conftest import FakeResolver, LoopbackBackend
from tests.fetching.server import DEFAULT_ROUTES, HTML, LAST_MODIFIED, TestServer, ok, robots
from tests.flows.test_archive import stored_bodies

pytestmark = pytest.mark.usefixtures("prefect_harness")

ROBOTS = "User-agent: *\nDisallow: /private/\n"
OUTCOMES = {o.value for o in Outcome}


@pytest.fixture(scope="module")
def hostile() -> Iterator[TestServer]:
    """The misbehaving server, with a robots.txt that disallows /private/."""
    srv = TestServer()
    for path, handler in DEFAULT_ROUTES.items():
        srv.route(path, handler)
    srv.route("/robots.txt", robots(ROBOTS))
    srv.route("/private/", ok)
    srv.start()
    yield srv
    srv.stop()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def endpoints(srv: TestServer) -> dict[str, str | set[str]]:
    """Cited URL (as written) → expected final outcome of the first run."""
    u = srv.url
    return {
        u("/ok"): "ok",
        u("/status/404"): "http_4xx",
        u("/status/410"): "http_4xx",
        u("/status/500"): "http_5xx",
        u("/status/204"): "empty_body",
        u("/status/302"): "http_3xx",
        u("/flaky/hostile"): "ok",
        u("/retry-after/1/hostile"): "ok",
        u("/retry-after/3600/hostile"): "retry_later",
        u("/429/hostile"): "retry_later",
        u("/loop/a"): "redirect_loop",
        u("/chain/10"): "too_many_redirects",
        u("/chain/3"): "ok",
        u("/redirect?to=file:///etc/passwd"): "blocked_address",
        u(f"/redirect?to=http://127.0.0.1:{srv.port}/ok"): "blocked_address",
        u("/endless"): "too_large",
        u("/gzip-bomb"): "too_large",
        u("/drip"): "timeout",
        u("/silent"): "timeout",
        u("/reset"): {"connect_error", "protocol_error"},
        u("/short-body"): "protocol_error",
        u("/fake-gzip"): "protocol_error",
        u("/bad-chunk"): "protocol_error",
        u("/odd-status"): "protocol_error",
        u("/huge-headers"): "protocol_error",
        u("/garbage"): "protocol_error",
        u("/close"): "protocol_error",
        u("/binary"): "decode_error",
        u("/png-as-html"): "unsupported_type",
        u("/pdf"): "unsupported_type",
        u("/no-type/text"): "unsupported_type",
        u("/empty"): "empty_body",
        u("/private/secret"): "robots_denied",
        u("/gzipped"): "ok",
        u("/chunked"): "ok",
        u("/no-type/html"): "ok",
        u("/canonical"): "ok",
        u("/charset/wrong-header"): "ok",
        u("/charset/meta"): "ok",
        u("/etag"): "ok",
        u("/last-modified"): "ok",
        u("/ok", host="nxdomain.test"): "dns_error",
        u("/ok", host="intranet.test"): "blocked_address",
        f"http://site.test:{closed_port()}/": "connect_error",
        "http://169.254.169.254/latest/meta-data/": "blocked_address",
        "ftp://files.example.org/report.txt": "blocked_address",
    }


def write_seeds(folder: Path, urls: list[str]) -> Path:
    """Half the URLs in a Markdown seed, half as HTML links."""
    folder.mkdir(parents=True, exist_ok=True)
    half = len(urls) // 2
    (folder / "a.md").write_text(
        "# Hostile\n\n" + "\n".join(f"* [link {i}]({url})" for i, url in enumerate(urls[:half]))
    )
    links = "".join(
        f'<li><a href="{url.replace("&", "&amp;")}">link</a></li>' for url in urls[half:]
    )
    (folder / "b.html").write_text(f"<html><body><ul>{links}</ul></body></html>")
    return folder


def query(db: str, sql: str, *args: object) -> list[tuple[object, ...]]:
    with duckdb.connect(db, read_only=True) as con:
        return con.execute(sql, list(args)).fetchall()


@pytest.fixture
def fake_network(monkeypatch: pytest.MonkeyPatch) -> FakeResolver:
    """The flow's fetcher, on the fake DNS and the loopback network of the fetching tests."""
    resolver = FakeResolver({"intranet.test": ["10.0.0.7"]})
    backend = LoopbackBackend()

    @contextlib.asynccontextmanager
    async def open_fetcher(config: FetchConfig) -> AsyncIterator[Fetcher]:
        async with make_client(config, network_backend=backend) as client:
            yield Fetcher(config, client, resolver=resolver)

    monkeypatch.setattr(resources, "open_fetcher", open_fetcher)
    return resolver


def run(tmp_path: Path, seeds: Path) -> RunSummary:
    params = IngestParameters(
        seeds=[str(seeds)], db=str(tmp_path / "hostile.duckdb"),
        allowed_ports=[],  # any port: the server listens on an ephemeral one
        concurrency=64, per_host_concurrency=32, per_host_delay=0.0,
        connect_timeout=1.0, read_timeout=1.0, total_timeout=2.0,
        max_bytes=1024 * 1024, retry_after_cap=2.0, extract_workers=1, memento_timegate="",
    )
    return asyncio.run(ingest(params))


@pytest.mark.usefixtures("fake_network")
def test_hostile_web_run(tmp_path: Path, hostile: TestServer) -> None:
    cited = endpoints(hostile)
    expected = {normalize_url(url): outcome for url, outcome in cited.items()}
    assert len(expected) >= 40
    seeds = write_seeds(tmp_path / "seeds", list(cited))
    db = str(tmp_path / "hostile.duckdb")

    first = run(tmp_path, seeds)

    assert query(db, "SELECT status FROM runs") == [("completed",)]
    outcomes = dict(query(db, "SELECT url, last_outcome FROM urls"))
    assert set(outcomes) == set(expected)
    assert set(outcomes.values()) <= OUTCOMES
    wrong = {
        url: (got, expected[url]) for url, got in outcomes.items()
        if got != expected[url] and got not in expected[url]
    }
    assert not wrong
    assert first.count("fetch") == len(expected)
    assert_one_final_fetch_per_url(db, first.run_id, set(expected))

    flaky = normalize_url(hostile.url("/flaky/hostile"))
    rows = query(db, "SELECT attempt, status_code, outcome, is_final FROM fetches "
                     "WHERE url = ? ORDER BY attempt", flaky)
    assert rows == [(1, 500, "http_5xx", False), (2, 200, "ok", True)]
    assert len(query(db, "SELECT * FROM fetches WHERE url = ?",
                     normalize_url(hostile.url("/status/500")))) == 3
    assert query(db, "SELECT final_url, redirect_chain FROM fetches WHERE url = ?",
                 normalize_url(hostile.url("/chain/3"))) == [
        (hostile.url("/chain/0"), [hostile.url(f"/chain/{n}") for n in (3, 2, 1)])
    ]
    # The guard refused the private answer before any connection to that name.
    assert not hostile.entries(host="intranet.test")
    assert not hostile.entries(prefix="/private/")
    # Every ok page is archived and extracted.
    ok_urls = {url for url, outcome in expected.items() if outcome == "ok"}
    assert {r[0] for r in query(db, "SELECT url FROM responses")} == ok_urls
    assert first.count("extract") == len(ok_urls)
    validators = dict(query(db, "SELECT url, coalesce(etag, last_modified) FROM urls "
                                "WHERE etag IS NOT NULL OR last_modified IS NOT NULL"))
    etag_url = normalize_url(hostile.url("/etag"))
    lm_url = normalize_url(hostile.url("/last-modified"))
    assert validators == {etag_url: '"v1"', lm_url: LAST_MODIFIED}
    extracted_before = dict(query(db, "SELECT url, extracted_at FROM documents WHERE kind = 'page'"))

    second = run(tmp_path, seeds)

    assert_one_final_fetch_per_url(db, second.run_id, set(expected))
    conditional = hostile.entries(prefix="/etag")[-1].headers
    assert conditional.get("if-none-match") == '"v1"'
    assert hostile.entries(prefix="/last-modified")[-1].headers.get("if-modified-since") == LAST_MODIFIED
    # Same outcomes, but 304s for the pages with validators, and the page that asked to be
    # retried later (Retry-After: 3600, over the cap) answers this time.
    later = normalize_url(hostile.url("/retry-after/3600/hostile"))
    changed = {etag_url: "not_modified", lm_url: "not_modified", later: "ok"}
    final = dict(query(db, "SELECT url, outcome FROM fetches WHERE run_id = ? AND is_final",
                       second.run_id))
    # A 200 with the very body stored last time is not_modified too (issue 16): the pages
    # this server serves the same each time, nothing extracted or archived again.
    same = {url for url, outcome in final.items() if outcome == "not_modified"} - {etag_url, lm_url}
    assert same and all(outcomes[url] == "ok" for url in same)
    digests = query(db, "SELECT f.url, f.status_code, f.body_sha256 = u.body_sha256 FROM fetches f "
                        "JOIN urls u USING (url) WHERE f.run_id = ? AND f.is_final "
                        "AND f.outcome = 'not_modified' AND f.url IN (SELECT unnest(?))",
                    second.run_id, sorted(same))
    assert sorted(digests) == [(url, 200, True) for url in sorted(same)]
    changed |= dict.fromkeys(same, "not_modified")
    assert dict(query(db, "SELECT url, last_outcome FROM urls")) == {**outcomes, **changed}
    # A fetches row holds its attempt's reason; `retry_later` is decided after the attempt
    # (Retry-After over the cap, or still 429 after the last try), so only urls shows it.
    too_many = normalize_url(hostile.url("/429/hostile"))
    assert final == {**outcomes, **changed, too_many: "http_4xx"}
    # Nothing re-extracted for a 304: the documents keep their extraction time.
    extracted_after = dict(query(db, "SELECT url, extracted_at FROM documents WHERE kind = 'page'"))
    for url in (etag_url, lm_url):
        assert extracted_after[url] == extracted_before[url]
    assert second.count("extract") == first.count("extract") - 2 - len(same) + 1
    assert query(db, "SELECT count(*) FROM runs WHERE status = 'completed'") == [(2,)]

    check_warc_export(tmp_path, db, hostile)


def assert_one_final_fetch_per_url(db: str, run_id: str, urls: set[str]) -> None:
    rows = query(db, "SELECT url, count(*) FILTER (WHERE is_final), max(attempt), count(*) "
                     "FROM fetches WHERE run_id = ? GROUP BY url", run_id)
    assert {r[0] for r in rows} == urls
    assert all(finals == 1 for _, finals, _, _ in rows)
    assert all(attempts == n for _, _, attempts, n in rows)  # attempts numbered 1..n


def check_warc_export(tmp_path: Path, db: str, hostile: TestServer) -> None:
    """The gzip-encoded and chunked pages export with plain bodies and renamed wire headers."""
    out = tmp_path / "hostile.warc.gz"
    result = CliRunner().invoke(app, ["export-warc", "--db", db, str(out)])
    assert result.exit_code == 0, result.output
    with open(out, "rb") as handle:
        responses = {
            r.rec_headers.get_header("WARC-Target-URI"): (r.http_headers, r.content_stream().read())
            for r in ArchiveIterator(handle) if r.rec_type == "response"
        }
    stored = {
        str(url): decompress_body(body, codec, size)  # type: ignore[arg-type]
        for url, body, codec, size in stored_bodies(
            db, "coalesce(r.final_url, r.url), b.body_compressed, r.body_codec, r.body_bytes"
        )
    }
    assert {u: body for u, (_, body) in responses.items()} == stored
    headers, body = responses[hostile.url("/gzipped")]
    assert body == HTML and gzip.compress(HTML) != body
    assert headers.get_header("Content-Encoding") is None
    assert headers.get_header("X-Archive-Orig-Content-Encoding") == "gzip"
    assert headers.get_header("Content-Length") == str(len(HTML))
    headers, body = responses[hostile.url("/chunked")]
    assert body == HTML
    assert headers.get_header("Transfer-Encoding") is None
    assert headers.get_header("X-Archive-Orig-Transfer-Encoding") == "chunked"
