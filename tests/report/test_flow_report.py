"""--report-dir in the ingest flow: the run's artifact links to the report, and a report
that cannot be built is a warning of a completed, published run, never a failure."""

import asyncio
from pathlib import Path

import duckdb

from tests.flows.test_page_versions import run_report
from tests.report.conftest import Built
from tests.site import Site


def test_the_run_artifact_links_to_the_report(report_site: Built) -> None:
    markdown = asyncio.run(run_report(report_site.summary.run_id))
    url = (report_site.report / "index.html").as_uri()
    assert f"(<{url}>)" in markdown


def test_a_report_that_fails_does_not_fail_the_run(
    tmp_path: Path, site: Site, prefect_harness: None
) -> None:
    from tests.sqlclients.corpus import build

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text(f"{site.url('/news/borrell')}\n")
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("not a report")  # the report refuses this folder
    db = tmp_path / "db" / "recite.duckdb"
    summary = build(db, seeds, report_dir=str(taken))
    assert summary.status == "completed"
    assert len(summary.warnings) == 1 and "not a recite report" in summary.warnings[0]
    assert sorted(p.name for p in taken.iterdir()) == ["notes.txt"]
    with duckdb.connect(str(db), read_only=True) as con:  # published all the same
        assert con.execute("SELECT status FROM runs").fetchall() == [("completed",)]


def test_reextract_refreshes_the_report(report_site: Built, tmp_path: Path) -> None:
    import shutil

    from flows.reextract import reextract
    from flows.settings import ReextractParameters

    db = tmp_path / "db" / "recite.duckdb"
    db.parent.mkdir()
    shutil.copy(report_site.db, db)
    shutil.copytree(report_site.db.with_name(report_site.db.name + ".archive"),
                    db.with_name(db.name + ".archive"))
    site = tmp_path / "site"
    summary = asyncio.run(reextract(ReextractParameters(db=str(db), report_dir=str(site))))
    assert summary.warnings == ()
    overview = (site / "index.html").read_text(encoding="utf-8")
    assert summary.run_id in overview  # the re-extraction is the latest run it shows
