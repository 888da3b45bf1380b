"""The whole pipeline under Prefect's test harness, against the local test site."""

import asyncio
from pathlib import Path

import duckdb
import pytest

from flows.ingest import ingest
from flows.settings import IngestParameters
from tests.site import Site

pytestmark = pytest.mark.usefixtures("prefect_harness")


def params(tmp_path: Path, seeds: list[Path], **extra: object) -> IngestParameters:
    return IngestParameters(
        seeds=[str(s) for s in seeds],
        db=str(tmp_path / "db" / "recite.duckdb"),
        allow_private_addresses=True,
        allowed_ports=[],
        per_host_delay=0.0,
        per_host_concurrency=4,
        connect_timeout=2.0, read_timeout=2.0, total_timeout=5.0,
        max_attempts=1,
        # No test asks the Internet Archive; tests/flows/test_page_versions.py serves a TimeGate.
        **{"memento_timegate": "", **extra},  # type: ignore[arg-type]
    )


def write_seeds(tmp_path: Path, site: Site) -> Path:
    folder = tmp_path / "seeds"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text(
        "Talks in Geneva ended without a breakthrough.\n\n"
        f"Source: {site.url('/news/geneva-talks')}.\n"
        f"Borrell: {site.url('/news/borrell')} and {site.url('/missing')}\n"
    )
    (folder / "b.md").write_text(
        f"# Notes\n\nSee [the talks]({site.url('/news/geneva-talks')}) and "
        f"[what next]({site.url('/news/links-on')}), the [pdf]({site.url('/report.pdf')}).\n"
    )
    (folder / "sub" / "c.html").write_text(
        "<html><body><p>An HTML seed citing a page that is gone.</p>"
        f"<a href=\"{site.url('/empty-article')}\">empty</a></body></html>"
    )
    (folder / "image.png").write_bytes(b"\x89PNG\r\n")
    return folder


def query(db: str, sql: str, args: list[object] | None = None) -> list[tuple[object, ...]]:
    with duckdb.connect(db, read_only=True) as con:
        return con.execute(sql, args or []).fetchall()


def test_pipeline_end_to_end(tmp_path: Path, site: Site) -> None:
    seeds = write_seeds(tmp_path, site)
    p = params(tmp_path, [seeds])
    first_request = len(site.requests)
    summary = asyncio.run(ingest(p))

    assert summary.total("seeds") == 3
    kinds = dict(query(p.db, "SELECT kind, count(*) FROM documents GROUP BY kind"))
    assert kinds == {"seed": 3, "page": 3}
    outcomes = dict(query(p.db, "SELECT url, last_outcome FROM urls"))
    assert outcomes == {
        site.url("/news/geneva-talks"): "ok",
        site.url("/news/borrell"): "ok",
        site.url("/news/links-on"): "ok",
        site.url("/missing"): "http_4xx",
        site.url("/report.pdf"): "unsupported_type",
        site.url("/empty-article"): "ok",
    }
    # A URL cited by two seeds is fetched once and linked to both.
    assert site.requests[first_request:].count("/news/geneva-talks") == 1
    citing = query(p.db, f"SELECT count(*) FROM citations WHERE url = '{site.url('/news/geneva-talks')}'")
    assert citing == [(2,)]
    # The page without main text has an outcome and no document.
    assert query(p.db, f"SELECT doc_id FROM urls WHERE url = '{site.url('/empty-article')}'") == [(None,)]
    assert summary.count("extract", "no_main_text") == 1
    title, author, published, sitename = query(
        p.db, "SELECT title, author, published, sitename FROM documents "
        f"WHERE url = '{site.url('/news/geneva-talks')}'",
    )[0]
    assert str(title).startswith("Geneva talks end without breakthrough")
    assert (author, published, sitename) == ("Anna Berger", "2022-01-10", "Daily Test Herald")
    canonical = query(p.db, f"SELECT canonical_url FROM urls WHERE url = '{site.url('/news/borrell')}'")
    assert canonical == [(site.url("/news/borrell-eu"),)]
    assert query(p.db, "SELECT count(*) FROM passages")[0][0] > 10
    assert query(p.db, "SELECT status FROM runs") == [("completed",)]


def test_second_run_duplicates_nothing(tmp_path: Path, site: Site) -> None:
    seeds = write_seeds(tmp_path, site)
    p = params(tmp_path, [seeds])
    asyncio.run(ingest(p))
    tables = ("documents", "passages", "citations", "urls", "seeds", "responses")
    before = {t: query(p.db, f"SELECT count(*) FROM {t}")[0] for t in tables}
    docs_before = query(p.db, "SELECT doc_id, content_sha256 FROM documents ORDER BY doc_id")
    asyncio.run(ingest(p))
    after = {t: query(p.db, f"SELECT count(*) FROM {t}")[0] for t in tables}
    assert after == before
    assert query(p.db, "SELECT doc_id, content_sha256 FROM documents ORDER BY doc_id") == docs_before
    assert query(p.db, "SELECT count(*) FROM runs WHERE status = 'completed'") == [(2,)]


def test_private_addresses_are_refused_by_default(tmp_path: Path, site: Site) -> None:
    seed = tmp_path / "s.md"
    seed.write_text(
        f"{site.url('/news/geneva-talks')} and http://169.254.169.254/latest/meta-data/ "
        "and [a file](ftp://files.example.org/x)"
    )
    p = params(tmp_path, [seed]).model_copy(update={"allow_private_addresses": False})
    requests_before = len(site.requests)
    asyncio.run(ingest(p))
    outcomes = {row[0] for row in query(p.db, "SELECT last_outcome FROM urls")}
    assert outcomes == {"blocked_address"}
    assert len(site.requests) == requests_before
    (error,) = query(p.db, "SELECT last_error FROM urls WHERE url LIKE 'ftp:%'")[0]
    assert "scheme" in str(error)
