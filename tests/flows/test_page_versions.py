"""Issue 16: four nights of a site whose pages change, and a dead link recovered from a
local Memento TimeGate (RFC 7089), each night a real `ingest` run under Prefect.

The pages: a paragraph edited, a headline changed, a page gone (404) for two runs then
restored, a page that flips back to its earlier text, a page redirected elsewhere, a page
that fails with 503 once (transient), one never changed, and one that never answered
but the archive holds.
"""

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from types import SimpleNamespace
from uuid import UUID

import pytest
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator
from warcio.checker import Checker

from cli.main import app
from cli.output import print_summary
from flows.ingest import ingest
from tests.flows.test_ingest import params, query
from tests.site import NOT_FOUND, Response, Site, article, serve_site

pytestmark = pytest.mark.usefixtures("prefect_harness")

ONE = "Negotiators from both delegations met in Geneva on Monday and discussed arms control."
TWO = "A senior official said the talks would continue in Brussels on Wednesday next week."
THREE = "Observers noted that neither side announced concessions after the long meeting."
EDITED = "A senior official said the talks would continue in Vienna on Thursday next week."
OTHER = "The harbour authority said grain shipments resumed through the corridor at dawn."
ARCHIVED = "The envoy arrived at the border crossing before the governor issued the mandate."
RECOVERED = "Only the web archive still holds this paragraph about the refugee corridor talks."
CAPTURE_2013 = "20130615120000"
CAPTURE_2020 = "20200301080000"


def html(title: str, paragraphs: list[str]) -> bytes:
    return article(title, "Desk", "2022-02-01", paragraphs).encode("utf-8")


@dataclass
class Nights:
    """The site's pages by night: night -> path -> answer; a TimeGate under /web/."""

    night: int = 1
    base: str = ""
    accept_datetimes: list[str] = field(default_factory=list)

    def page(self, path: str) -> Response:
        n = self.night
        ok = lambda body: Response(200, body)  # noqa: E731
        if path == "/edited":
            return ok(html("Talks resume", [ONE, TWO if n == 1 else EDITED, THREE]))
        if path == "/headline":
            return ok(html("Talks resume" if n == 1 else "Talks stall", [ONE, THREE, OTHER]))
        if path == "/removed":
            return NOT_FOUND if n in (2, 3) else ok(html("Grain deal", [OTHER, ONE, TWO]))
        if path == "/flip":
            return ok(html("Ceasefire", [THREE, OTHER] + ([TWO] if n == 2 else [ONE])))
        if path == "/redirected":
            if n >= 3:
                return Response(301, b"", None, (("Location", "/target"),))
            return ok(html("Summit", [TWO, THREE, ONE]))
        if path == "/target":
            return ok(html("Summit moved", [OTHER, EDITED, THREE]))
        if path == "/flaky":
            if n == 2:
                return Response(503, b"busy", "text/plain")
            return ok(html("Budget", [EDITED, ONE, OTHER]))
        if path == "/steady":
            body = html("Pipeline", [ONE, OTHER, EDITED])
            return Response(200, body, headers=(("ETag", '"steady"'),))
        return NOT_FOUND

    def answer(self, site: Site, path: str, headers: Message) -> Response:
        if path.startswith("/web/"):
            return self.archive(path[len("/web/"):], headers)
        reply = self.page(path)
        if reply.headers == (("ETag", '"steady"'),) and headers.get("If-None-Match") == '"steady"':
            return Response(304, b"", None, reply.headers)
        return reply

    def archive(self, rest: str, headers: Message) -> Response:
        """An RFC 7089 TimeGate (302 to the nearest capture) and its mementos' original bytes."""
        dead = self.base + "/dead"
        captures = {CAPTURE_2013: html("Dead page", [ARCHIVED, THREE]),
                    CAPTURE_2020: html("Dead page, later", [ARCHIVED, RECOVERED])}
        if rest == dead:
            asked = headers.get("Accept-Datetime")
            self.accept_datetimes.append(asked or "")
            when = parsedate_to_datetime(asked) if asked else datetime.now(UTC)
            stamp = min(captures, key=lambda ts: abs(
                (datetime.strptime(ts, "%Y%m%d%H%M%S").replace(tzinfo=UTC) - when).total_seconds()
            ))
            return Response(302, b"", None, (
                ("Location", f"{self.base}/web/{stamp}/{dead}"),
                ("Vary", "accept-datetime"),
                ("Link", f'<{dead}>; rel="original", <{self.base}/timemap/link/{dead}>; '
                         'rel="timemap"; type="application/link-format"'),
            ))
        stamp, _, original = rest.partition("/")
        if original == dead and stamp.endswith("id_") and stamp[:-3] in captures:
            when = datetime.strptime(stamp[:-3], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
            return Response(200, captures[stamp[:-3]], headers=(
                ("Memento-Datetime", format_datetime(when, usegmt=True)),
                ("Link", f'<{dead}>; rel="original"'),
            ))
        if original == dead:  # the banner form: never asked for
            return Response(200, b"<div id='wm-banner'>banner</div>" + captures[CAPTURE_2020])
        return NOT_FOUND


async def run_report(run_id: str) -> str:
    """The run's `recite-run-report` artifact, as the Prefect UI shows it."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterKey,
        FlowRunFilter,
        FlowRunFilterId,
    )

    async with get_client() as client:
        [artifact] = await client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["recite-run-report"])),
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(run_id)])),
        )
    return str(artifact.data)


PATHS = ("/edited", "/headline", "/removed", "/flip", "/redirected", "/flaky", "/steady", "/dead")


def run_nights(tmp_path: Path) -> tuple[Nights, str, dict[int, dict[str, list[tuple[object, ...]]]]]:
    """Four nights into one database; what link_rot and the versions showed after each."""
    nights = Nights()
    seen: dict[int, dict[str, list[tuple[object, ...]]]] = {}
    with serve_site(nights.answer) as site:
        nights.base = site.base
        seeds = tmp_path / "seeds"
        seeds.mkdir()
        (seeds / "a.txt").write_text("Sources:\n" + "\n".join(site.url(p) for p in PATHS) + "\n")
        p = params(tmp_path / "nightly", [seeds], memento_timegate=site.url("/web/"))
        for night in range(1, 5):
            nights.night = night
            if night == 3:  # a seed that first cites /edited after its edit
                (seeds / "late.txt").write_text(f"Later: {site.url('/edited')}\n")
            summary = asyncio.run(ingest(p))
            seen[night] = {
                "summary": [(summary,)],
                "report": [(asyncio.run(run_report(summary.run_id)),)],
                "link_rot": query(p.db, "SELECT url, consecutive_failures, versions_kept, "
                                        "last_outcome FROM link_rot ORDER BY url"),
                "current": query(p.db, "SELECT url, version FROM page_versions WHERE is_current "
                                       "ORDER BY url"),
            }
    return nights, p.db, seen


@pytest.fixture(scope="module")
def nights(
    tmp_path_factory: pytest.TempPathFactory, prefect_harness: None
) -> tuple[Nights, str, dict[int, dict[str, list[tuple[object, ...]]]]]:
    return run_nights(tmp_path_factory.mktemp("versions"))


def versions(db: str, base: str, path: str) -> list[tuple[object, ...]]:
    return query(db, "SELECT version, title, source, is_current FROM page_versions "
                     "WHERE url = ? ORDER BY version", [base + path])


def test_every_run_completes(nights) -> None:  # type: ignore[no-untyped-def]
    _, db, _ = nights
    assert query(db, "SELECT status FROM runs ORDER BY started_at") == [("completed",)] * 4


def test_an_edited_paragraph_is_a_new_version_with_a_diff(nights) -> None:  # type: ignore[no-untyped-def]
    site, db, _ = nights
    assert versions(db, site.base, "/edited") == [
        (1, "Talks resume", "fetch", False), (2, "Talks resume", "fetch", True)]
    [(old, new, added, removed, similarity, diff)] = query(db, """
        SELECT from_version, to_version, paragraphs_added, paragraphs_removed, similarity, diff
        FROM page_changes WHERE url = ?""", [site.base + "/edited"])
    assert (old, new, added, removed) == (1, 2, 1, 1)
    assert 0 < similarity < 1
    assert f"-{TWO}" in diff.splitlines() and f"+{EDITED}" in diff.splitlines()
    texts = query(db, "SELECT text FROM page_versions WHERE url = ? ORDER BY version",
                  [site.base + "/edited"])
    assert [TWO in t and EDITED not in t for (t,) in texts] == [True, False]
    # documents keeps meaning the current version.
    assert query(db, "SELECT count(*) FROM documents WHERE url = ? AND text LIKE ?",
                 [site.base + "/edited", f"%{EDITED}%"]) == [(1,)]


def test_a_changed_headline_is_a_change_with_both_titles(nights) -> None:  # type: ignore[no-untyped-def]
    site, db, _ = nights
    assert [v[:2] for v in versions(db, site.base, "/headline")] == [
        (1, "Talks resume"), (2, "Talks stall")]
    [(before, after, added, removed, diff)] = query(
        db, "SELECT title_before, title_after, paragraphs_added, paragraphs_removed, diff "
            "FROM page_changes WHERE url = ?", [site.base + "/headline"])
    assert (before, after) == ("Talks resume", "Talks stall")
    # The headline is the text's first paragraph too: only it changed.
    assert (added, removed) == (1, 1)
    assert [line for line in diff.splitlines() if line[:1] in "+-" and line[1:2] not in "+-"] == [
        "-Talks resume", "+Talks stall"]


def test_a_gone_page_is_in_link_rot_after_two_runs_and_leaves_on_restore(nights) -> None:  # type: ignore[no-untyped-def]
    site, db, seen = nights
    url = site.base + "/removed"
    assert not [r for r in seen[2]["link_rot"] if r[0] == url]  # one 404: not yet
    assert [r for r in seen[3]["link_rot"] if r[0] == url] == [(url, 2, 1, "http_4xx")]
    assert not [r for r in seen[4]["link_rot"] if r[0] == url]  # restored
    # Its version stayed current all along, and it came back as the same version.
    assert all((url, 1) in seen[n]["current"] for n in range(1, 5))
    assert versions(db, site.base, "/removed") == [(1, "Grain deal", "fetch", True)]
    assert query(db, "SELECT count(*) FROM page_changes WHERE url = ?", [url]) == [(0,)]
    assert query(db, "SELECT count(*) FROM documents WHERE url = ?", [url]) == [(1,)]


def test_a_transient_failure_hides_nothing(nights) -> None:  # type: ignore[no-untyped-def]
    site, _, seen = nights
    url = site.base + "/flaky"
    assert all(r[0] != url for n in seen for r in seen[n]["link_rot"])
    assert all((url, 1) in seen[n]["current"] for n in range(1, 5))


def test_a_page_that_flips_back_returns_to_its_version(nights) -> None:  # type: ignore[no-untyped-def]
    site, db, _ = nights
    url = site.base + "/flip"
    assert [v[0] for v in versions(db, site.base, "/flip")] == [1, 2]
    assert query(db, "SELECT from_version, to_version FROM page_changes WHERE url = ? "
                     "ORDER BY detected_at", [url]) == [(1, 2), (2, 1)]
    assert query(db, "SELECT version FROM page_versions WHERE url = ? AND is_current",
                 [url]) == [(1,)]
    # Its first text is stored once.
    shas = query(db, "SELECT content_sha256 FROM versions WHERE url = ?", [url])
    assert query(db, "SELECT count(*) FROM version_texts WHERE content_sha256 IN (SELECT unnest(?))",
                 [[s for (s,) in shas]]) == [(2,)]


def test_a_redirected_page_is_a_version_served_from_elsewhere(nights) -> None:  # type: ignore[no-untyped-def]
    site, db, _ = nights
    rows = query(db, "SELECT version, page_url, is_current FROM page_versions WHERE url = ? "
                     "ORDER BY version", [site.base + "/redirected"])
    assert rows == [(1, site.base + "/redirected", False), (2, site.base + "/target", True)]


def test_unchanged_pages_are_not_extracted_or_archived_again(nights) -> None:  # type: ignore[no-untyped-def]
    site, db, _ = nights
    # /steady answers 304 (ETag); /flaky's body is the same without an ETag: both not_modified.
    rows = query(db, "SELECT url, status_code FROM fetches WHERE outcome = 'not_modified' "
                     "AND url IN (?, ?) ORDER BY url, fetched_at",
                 [site.base + "/flaky", site.base + "/steady"])
    assert (site.base + "/flaky", 200) in rows and (site.base + "/steady", 304) in rows
    bodies = query(db, "SELECT url, count(*) FROM versions GROUP BY url ORDER BY url")
    assert dict(bodies)[site.base + "/steady"] == 1
    assert query(db, "SELECT max(last_seen) > min(first_seen) FROM versions WHERE url = ?",
                 [site.base + "/steady"]) == [(True,)]


def test_a_dead_link_is_recovered_from_the_timegate(nights) -> None:  # type: ignore[no-untyped-def]
    site, db, _ = nights
    url = site.base + "/dead"
    # Asked once, with the citation date; the capture nearest it (2020) was fetched in id_ form.
    assert len(site.accept_datetimes) == 1
    asked = parsedate_to_datetime(site.accept_datetimes[0])
    first_cited = query(db, "SELECT min(first_seen) FROM citations WHERE url = ?", [url])[0][0]
    assert abs((asked - first_cited).total_seconds()) < 1
    [(outcome, memento_uri, memento_dt)] = query(
        db, "SELECT outcome, memento_uri, memento_datetime FROM memento_lookups WHERE url = ?",
        [url])
    assert outcome == "memento_ok"
    assert memento_uri == f"{site.base}/web/{CAPTURE_2020}/{url}"
    assert memento_dt == datetime(2020, 3, 1, 8, 0, tzinfo=UTC)
    [(version, title, text, source, is_current, mdt, muri)] = query(db, """
        SELECT version, title, text, source, is_current, memento_datetime, memento_uri
        FROM page_versions WHERE url = ?""", [url])
    assert (version, title, source, is_current, mdt) == (
        1, "Dead page, later", "memento", True, memento_dt)
    assert "banner" not in text and RECOVERED in text
    assert muri == memento_uri
    # The recovered text is the URL's document, in the corpus, as cited.
    assert query(db, "SELECT count(*) FROM corpus WHERE url = ? AND text LIKE ?",
                 [url, f"%{RECOVERED}%"]) == [(1,)]
    assert query(db, "SELECT version FROM cited_versions WHERE url = ?", [url]) == [(1,)]
    counts = dict(query(db, "SELECT reason, sum(count) FROM run_counts WHERE stage = 'memento' "
                            "GROUP BY reason"))
    # /removed, gone on night 3, was asked about too: the archive has no capture of it.
    assert counts == {"memento_ok": 1, "memento_none": 1}
    assert query(db, "SELECT url FROM memento_lookups WHERE outcome = 'memento_none'") == [
        (site.base + "/removed",)]


def test_citations_point_at_the_version_they_cited(nights) -> None:  # type: ignore[no-untyped-def]
    site, db, _ = nights
    rows = query(db, "SELECT seed, version, changed_since FROM cited_versions WHERE url = ? "
                     "ORDER BY seed", [site.base + "/edited"])
    assert [(Path(seed).name, version, changed) for seed, version, changed in rows] == [
        ("a.txt", 1, True), ("late.txt", 2, False)]


def test_export_warc_writes_every_version_and_revisits(nights, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site, db, _ = nights
    out = tmp_path / "versions.warc.gz"
    result = CliRunner().invoke(app, ["export-warc", "--db", db, str(out)])
    assert result.exit_code == 0, result.output
    with open(out, "rb") as handle:
        records = [(r.rec_type, r.rec_headers, r.content_stream().read())
                   for r in ArchiveIterator(handle)]
    responses = [(h.get_header("WARC-Target-URI"), h.get_header("WARC-Date"), body)
                 for kind, h, body in records if kind == "response"]
    # Every version, with its own date and bytes.
    stored = query(db, "SELECT count(*) FROM versions")[0][0]
    assert len(responses) == stored
    edited = [(date, body) for uri, date, body in responses if uri == site.base + "/edited"]
    assert len(edited) == 2 and edited[0][0] < edited[1][0]
    assert TWO.encode() in edited[0][1] and EDITED.encode() in edited[1][1]
    # The memento: the original URL, dated when the archive captured it, no request record.
    [memento] = [h for kind, h, _ in records
                 if kind == "response" and h.get_header("WARC-Target-URI") == site.base + "/dead"]
    assert memento.get_header("WARC-Date") == "2020-03-01T08:00:00Z"
    assert memento.get_header("WARC-Memento-URI") == f"{site.base}/web/{CAPTURE_2020}/{site.base}/dead"
    requests = {h.get_header("WARC-Target-URI") for kind, h, _ in records if kind == "request"}
    assert site.base + "/dead" not in requests
    # Unchanged re-fetches are revisits of the version they got again (identical payload).
    revisits = [h for kind, h, _ in records if kind == "revisit"]
    steady = [h for h in revisits if h.get_header("WARC-Target-URI") == site.base + "/steady"]
    assert len(steady) == 3  # nights 2, 3 and 4
    [original] = [h for kind, h, _ in records if kind == "response"
                  and h.get_header("WARC-Target-URI") == site.base + "/steady"]
    for revisit in steady:
        assert revisit.get_header("WARC-Profile").endswith("/revisit/identical-payload-digest")
        assert revisit.get_header("WARC-Payload-Digest") == original.get_header("WARC-Payload-Digest")
        assert revisit.get_header("WARC-Refers-To-Date") == original.get_header("WARC-Date")
        assert revisit.get_header("WARC-Refers-To") == original.get_header("WARC-Record-ID")
    # /removed came back with the same body on night 4: a revisit of version 1.
    assert [h for h in revisits if h.get_header("WARC-Target-URI") == site.base + "/removed"]
    checker = Checker(SimpleNamespace(inputs=[str(out)], verbose=False))
    assert checker.process_all() == 0  # warcio's checker: every digest verifies


def test_the_run_report_and_summary_list_changes_and_gone_pages(nights, capsys) -> None:  # type: ignore[no-untyped-def]
    site, _, seen = nights
    [(second,)] = seen[2]["report"]
    assert "## Cited pages that changed" in second
    edited = second.split(f"`{site.base}/edited`", 1)[1].split("\n- ", 1)[0]
    assert "version 1 → 2" in edited and f"-{TWO}" in edited and f"+{EDITED}" in edited
    assert "title Talks resume → Talks stall" in second
    [(third,)] = seen[3]["report"]
    assert "## Cited pages gone\n\n1 went gone in this run" in third
    assert f"`{site.base}/removed`: `http_4xx` (HTTP 404), last answered " in third
    [(fourth,)] = seen[4]["report"]
    assert "0 went gone in this run" in fourth
    # The CLI prints the same from the run's summary.
    [(summary,)] = seen[2]["summary"]
    assert {c.url for c in summary.changes} == {
        site.base + p for p in ("/edited", "/headline", "/flip")}
    print_summary(summary)
    out = capsys.readouterr().out
    assert "3 cited page(s) changed" in out and f"+{EDITED}" in out
    [(summary,)] = seen[3]["summary"]
    assert [g.url for g in summary.gone] == [site.base + "/removed"]
    assert summary.count("versions", "gone") == 1
