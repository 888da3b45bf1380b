"""flows/site_report.py: the report after a run is optional, and never fails the run."""

import logging
from pathlib import Path

import pytest

from flows import site_report
from flows.site_report import refresh_report, report_url


def test_no_folder_no_report(tmp_path: Path) -> None:
    assert report_url("") is None
    assert refresh_report(str(tmp_path / "none.duckdb"), "", logging.getLogger("t")) == ()
    assert report_url(str(tmp_path / "site")) == (tmp_path / "site" / "index.html").as_uri()


def test_any_error_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(db: Path, out: Path) -> None:
        raise RuntimeError("a template bug")

    monkeypatch.setattr(site_report, "build_report", broken)
    with caplog.at_level(logging.WARNING):
        warnings = refresh_report(str(tmp_path / "db"), str(tmp_path / "site"), logging.getLogger("t"))
    assert len(warnings) == 1 and "a template bug" in warnings[0]
    assert "could not be refreshed" in caplog.text


def test_a_missing_database_is_a_warning(tmp_path: Path) -> None:
    [warning] = refresh_report(str(tmp_path / "none.duckdb"), str(tmp_path / "site"),
                               logging.getLogger("t"))
    assert "no database" in warning
