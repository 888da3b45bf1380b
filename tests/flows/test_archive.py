"""The raw archive: URL identity, `reextract` without fetching, and WARC export."""

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zlib
from datetime import UTC
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator
from warcio.checker import Checker

from cli.main import app
from extractors.content import Extraction, extract_page
from extractors.records import ExtractedDocument
from flows.ingest import ingest
from flows.reextract import ReextractParameters, reextract
from flows.settings import IngestParameters
from pipeline import extraction, steps
from storage.body_files import archive_dir
from storage.codec import ARCHIVE_CODEC, decompress_body
from storage.errors import DatabaseUnavailable
from storage.warc import response_headers
from tests.site import Site

pytestmark = pytest.mark.usefixtures("prefect_harness")

PAGES = [
    "/news/geneva-talks", "/moved", "/news/borrell", "/news/links-on", "/copy/geneva-talks",
    "/reprint/geneva-talks", "/opinion/one", "/opinion/two", "/opinion/three",
    "/empty-article", "/missing", "/report.pdf",
]
UPGRADE = "Added by the upgraded extractor."


@pytest.fixture(scope="module")
def built_db(tmp_path_factory: pytest.TempPathFactory, site: Site, prefect_harness: None) -> Path:
    """A database the ingest flow built from seeds citing every page of the test site."""
    folder = tmp_path_factory.mktemp("archive")
    seed = folder / "seeds" / "all.md"
    seed.parent.mkdir()
    seed.write_text(
        "They reported that \u201cdiplomats from Russia and the United States met in Geneva\u201d.\n\n"
        + "\n".join(f"* [{p}]({site.url(p)})" for p in PAGES) + "\n"
    )
    params = IngestParameters(
        seeds=[str(seed)], db=str(folder / "db" / "recite.duckdb"),
        allow_private_addresses=True, allowed_ports=[], per_host_delay=0.0,
        per_host_concurrency=4, max_attempts=1, extract_workers=1, memento_timegate="",
    )
    asyncio.run(ingest(params))
    return Path(params.db)


@pytest.fixture
def db(built_db: Path, tmp_path: Path) -> str:
    """A fresh copy of the built database and its archive folder (no working file)."""
    copy = tmp_path / "recite.duckdb"
    shutil.copyfile(built_db, copy)
    shutil.copytree(archive_dir(built_db), archive_dir(copy))
    return str(copy)


def query(db: str, sql: str, *args: object) -> list[tuple[object, ...]]:
    with duckdb.connect(db, read_only=True) as con:
        return con.execute(sql, list(args)).fetchall()


DOC_COLUMNS = (
    "doc_id, kind, url, canonical_url, title, author, published, sitename, text, "
    "content_sha256, extractor, extractor_version, first_seen, extracted_at"
)


def documents(db: str) -> list[tuple[object, ...]]:
    return query(db, f"SELECT {DOC_COLUMNS} FROM documents ORDER BY doc_id")


def test_requested_final_and_canonical_urls_are_stored_one_page_one_document(db: str, site: Site) -> None:
    moved, talks = site.url("/moved"), site.url("/news/geneva-talks")
    borrell = site.url("/news/borrell")
    urls = {r[0]: r[1:] for r in query(db, "SELECT url, final_url, canonical_url, doc_id FROM urls")}
    # Requested and final URL of the redirect; both lead to one document.
    assert urls[moved][0] == talks
    assert urls[moved][2] == urls[talks][2] is not None
    assert query(db, "SELECT count(*) FROM documents WHERE url = ?", talks) == [(1,)]
    assert query(db, "SELECT url FROM documents WHERE doc_id = ?", urls[moved][2]) == [(talks,)]
    assert query(db, "SELECT final_url, redirect_chain FROM fetches WHERE url = ?", moved) == [
        (talks, [moved])
    ]
    assert query(db, "SELECT final_url FROM responses WHERE url = ?", moved) == [(talks,)]
    # The canonical URL the page declares is kept beside the URL it was fetched from.
    assert urls[borrell][1] == site.url("/news/borrell-eu")
    assert query(db, "SELECT url, canonical_url FROM documents WHERE doc_id = ?", urls[borrell][2]) == [
        (borrell, site.url("/news/borrell-eu"))
    ]
    # 8 article pages: /moved adds no document, /empty-article has no main text.
    assert query(db, "SELECT count(*) FROM documents WHERE kind = 'page'") == [(8,)]


def test_reextract_without_changes_keeps_every_document(db: str, site: Site) -> None:
    before_docs = documents(db)
    before_passages = query(db, "SELECT * FROM passages ORDER BY doc_id, ordinal")
    requests = len(site.requests)

    # Two worker processes: 9 pages is enough for the pool to run them in parallel.
    summary = asyncio.run(reextract(ReextractParameters(db=db, extract_workers=2)))

    assert len(site.requests) == requests
    assert documents(db) == before_docs  # extracted_at too: nothing was rewritten
    assert query(db, "SELECT * FROM passages ORDER BY doc_id, ordinal") == before_passages
    assert summary.count("extract") == 9  # 10 responses, /moved and its target one page
    assert summary.count("documents", "page_unchanged") == 8
    assert summary.count("extract", "no_main_text") == 1
    assert summary.count("dedup", "signed") == 0
    assert summary.count("quotes") == 0  # no seed, page or cited text changed
    assert query(db, "SELECT status, json_extract_string(parameters, '$.flow') FROM runs "
                     "WHERE run_id = ?", summary.run_id) == [("completed", "reextract")]


def test_reextract_after_an_extractor_upgrade_updates_documents_without_fetching(
    db: str, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    def upgraded(html: str, url: str | None = None) -> Extraction:
        result = extract_page(html, url)
        if result.document is None:
            return result
        doc = result.document
        return Extraction(ExtractedDocument(doc.text + "\n" + UPGRADE, doc.title), result.reason)

    # One worker: extraction runs in this process, where the patch applies.
    monkeypatch.setattr(extraction, "extract_page", upgraded)
    monkeypatch.setattr(steps, "EXTRACTOR_VERSION", "99.0-test")
    before = {r[0]: r for r in documents(db)}
    requests = len(site.requests)

    summary = asyncio.run(reextract(ReextractParameters(db=db, extract_workers=1)))

    assert len(site.requests) == requests  # the site's log: no HTTP request at all
    after = {r[0]: r for r in documents(db)}
    assert after.keys() == before.keys()
    pages = [d for d in after.values() if d[1] == "page"]
    assert len(pages) == 8 and summary.count("documents", "page_changed") == 8
    for doc in pages:
        assert str(doc[8]).endswith(UPGRADE)
        assert doc[11] == "99.0-test"
        assert doc[13] != before[doc[0]][13]  # extracted_at
        assert doc[3] is None and doc[5] is None  # metadata as the "upgrade" returns it
    for doc in after.values():
        if doc[1] == "seed":
            assert doc == before[doc[0]]
    last = query(db, "SELECT d.doc_id FROM documents d JOIN passages p USING (doc_id) "
                     "WHERE p.text = ? AND d.kind = 'page'", UPGRADE)
    assert len(last) == 8
    # Dedup ran on the new texts: every signature matches its document's text again.
    assert query(db, "SELECT count(*) FROM documents d JOIN doc_signatures s USING (doc_id) "
                     "WHERE s.content_sha256 <> d.content_sha256") == [(0,)]
    assert summary.count("dedup", "signed") == 8
    # The quote step followed (issue 18): the changed pages re-indexed, and the checks
    # redone against the rewritten cited versions.
    assert summary.count("quotes", "pages_indexed") == 8
    assert query(db, "SELECT count(*) FROM quote_index_docs x JOIN documents d USING (doc_id) "
                     "WHERE x.content_sha256 <> d.content_sha256") == [(0,)]
    assert query(db, "SELECT count(*) FROM quote_checks c JOIN versions v "
                     "ON v.url = c.url AND v.version = c.version "
                     "WHERE c.content_sha256 <> v.content_sha256") == [(0,)]
    exact = query(db, "SELECT url FROM quote_checks WHERE result = 'exact' ORDER BY url")
    assert [str(u).removeprefix(site.base) for (u,) in exact] == [
        "/copy/geneva-talks", "/moved", "/news/geneva-talks", "/news/links-on",
        "/reprint/geneva-talks",
    ]
    # The current versions hold what documents holds (issue 16): no version was added.
    assert query(db, "SELECT count(*) FROM page_versions v JOIN urls u USING (url) "
                     "JOIN documents d ON d.doc_id = u.doc_id "
                     "WHERE v.is_current AND v.text <> d.text") == [(0,)]
    assert query(db, "SELECT count(*) FROM page_versions WHERE is_current AND text LIKE ?",
                 f"%{UPGRADE}") == [(9,)]  # 8 pages, one reached under two URLs
    assert query(db, "SELECT max(version) FROM versions") == [(1,)]
    # The page reached under two URLs is still one document, both URLs linked to it.
    ids = query(db, "SELECT DISTINCT doc_id FROM urls WHERE url IN (?, ?)",
                site.url("/moved"), site.url("/news/geneva-talks"))
    assert len(ids) == 1 and ids[0][0] is not None


def test_reextract_refuses_a_missing_database(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailable, match="no database"):
        asyncio.run(reextract(ReextractParameters(db=str(tmp_path / "none.duckdb"))))
    assert not (tmp_path / "none.duckdb").exists()


def test_export_warc_reads_back_with_the_same_bodies(db: str, tmp_path: Path) -> None:
    out = tmp_path / "out" / "archive.warc.gz"
    result = CliRunner().invoke(app, ["export-warc", "--db", db, str(out)])
    assert result.exit_code == 0, result.output

    stored = stored_bodies(db, "coalesce(r.final_url, r.url), r.fetched_at, b.body_compressed, "
                               "r.body_codec, r.body_bytes, r.body_sha256")
    assert len(stored) == query(db, "SELECT count(*) FROM responses")[0][0]
    with open(out, "rb") as handle:
        records = [
            (r.rec_type, r.rec_headers, r.http_headers, r.content_stream().read())
            for r in ArchiveIterator(handle)
        ]
    assert [r[0] for r in records] == ["warcinfo"] + ["request", "response"] * len(stored)
    assert records[0][1].protocol == "WARC/1.0"
    requests, responses = records[1::2], records[2::2]
    for (uri, fetched_at, compressed, codec, size, sha), request, response in zip(stored, requests, responses, strict=True):
        assert codec == ARCHIVE_CODEC
        body = decompress_body(compressed, codec, size)  # type: ignore[arg-type]
        assert hashlib.sha256(body).hexdigest() == sha
        _, warc, http, payload = response
        assert payload == body  # byte for byte
        assert warc.get_header("WARC-Target-URI") == uri
        assert warc.get_header("WARC-Date") == fetched_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # type: ignore[attr-defined]
        assert http.get_statuscode() == "200"
        assert http.get_header("Content-Length") == str(len(body))
        _, request_warc, request_http, _ = request
        assert request_warc.get_header("WARC-Target-URI") == uri
        assert request_warc.get_header("WARC-Concurrent-To") == warc.get_header("WARC-Record-ID")
        assert warc.get_header("WARC-Concurrent-To") == request_warc.get_header("WARC-Record-ID")
        assert request_http.protocol == "GET"
        assert request_http.get_header("User-Agent") == IngestParameters().user_agent
    assert gzip_members(out.read_bytes()) == len(records)
    checker = Checker(SimpleNamespace(inputs=[str(out)], verbose=False))
    assert checker.process_all() == 0  # every block and payload digest verifies


def gzip_members(data: bytes) -> int:
    """Number of gzip members in `data` (a WARC.gz holds one per record)."""
    count = 0
    while data:
        member = zlib.decompressobj(wbits=31)
        member.decompress(data)
        assert member.eof
        data = member.unused_data
        count += 1
    return count


def test_wire_headers_are_renamed_for_the_decoded_body() -> None:
    served = [("content-type", "text/html"), ("content-encoding", "gzip"),
              ("Content-Length", "120"), ("transfer-encoding", "chunked"), ("etag", '"x"')]
    assert response_headers(served, 500) == [
        ("content-type", "text/html"), ("X-Archive-Orig-content-encoding", "gzip"),
        ("X-Archive-Orig-Content-Length", "120"), ("X-Archive-Orig-transfer-encoding", "chunked"),
        ("etag", '"x"'), ("Content-Length", "500"),
    ]
    plain = [("content-type", "text/html"), ("content-length", "500")]
    assert response_headers(plain, 500) == plain


def recite(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, timeout=300,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def test_commands_as_a_user_runs_them(db: str, tmp_path: Path, site: Site) -> None:
    from prefect.settings import PREFECT_API_URL

    requests = len(site.requests)
    out = recite("reextract", "--db", db, "--workers", "1",
                 env={"PREFECT_API_URL": str(PREFECT_API_URL.value())})
    assert out.returncode == 0, out.stderr[-3000:]
    assert "page_unchanged" in out.stdout
    assert len(site.requests) == requests
    warc = tmp_path / "a.warc.gz"
    out = recite("export-warc", "--db", db, str(warc))
    assert out.returncode == 0, out.stderr
    assert "10 responses, 21 records" in out.stdout


def test_commands_fail_with_a_message_without_a_database(tmp_path: Path) -> None:
    out = recite("export-warc", "--db", str(tmp_path / "none.duckdb"), str(tmp_path / "a.warc.gz"))
    assert out.returncode == 1
    assert "no database" in out.stderr
    assert not (tmp_path / "a.warc.gz").exists()
    out = recite("reextract", "--db", str(tmp_path / "none.duckdb"))
    assert out.returncode == 1
    assert "no database" in out.stderr
    assert not (tmp_path / "none.duckdb").exists()


def stored_bodies(db: str, columns: str) -> list[tuple[object, ...]]:
    """`columns` of responses joined with their bodies, read as docs/sql.md tells clients to."""
    sql = (
        f"SELECT {columns} FROM responses r JOIN read_parquet('{db}.archive/*.parquet', "
        "filename = true) b ON b.url = r.url AND b.filename LIKE '%/' || r.archive_file "
        "ORDER BY r.fetched_at, r.url"
    )
    return query(db, sql)


def test_reextract_shares_the_run_lifecycle_of_ingest(db: str) -> None:
    """The writer lock (it waits for a run that holds it) and interrupted runs marked."""
    import fcntl
    import os
    import threading
    import time

    from flows.concurrency import lock_path
    from storage.database import WorkingDatabase

    with WorkingDatabase(Path(db)) as work:  # a run killed mid-way left its row 'running'
        work.con.execute("INSERT INTO runs (run_id, started_at, status) "
                         "VALUES ('killed', now(), 'running')")
    fd = os.open(lock_path(db), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another writer holds the database
    released = []

    def release() -> None:
        time.sleep(2.0)
        released.append(time.time())
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    holder = threading.Thread(target=release)
    holder.start()
    summary = asyncio.run(reextract(ReextractParameters(db=db, extract_workers=1)))
    holder.join()
    (started,), = query(db, "SELECT epoch(started_at) FROM runs WHERE run_id = ?", summary.run_id)
    assert started >= released[0] - 0.05  # it started only once the lock was free
    assert query(db, "SELECT status FROM runs WHERE run_id = 'killed'") == [("interrupted",)]
    assert json.loads(query(db, "SELECT parameters FROM runs WHERE run_id = ?",
                            summary.run_id)[0][0])["db_memory_limit"] == "1GB"
