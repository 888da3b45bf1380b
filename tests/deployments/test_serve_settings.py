"""How `recite serve` builds its deployments from settings (no Prefect server needed)."""

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from deployments.serve import ServeSettings, build_deployments, default_parameters
from flows.settings import Settings


def test_defaults_are_2am_utc_and_30_days(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RECITE_SCHEDULE_CRON", "RECITE_SCHEDULE_TIMEZONE", "RECITE_PREFECT_RETENTION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    settings = ServeSettings()
    assert (settings.schedule_cron, settings.schedule_timezone) == ("0 2 * * *", "UTC")
    assert settings.prefect_retention_days == 30


def test_environment_and_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECITE_SCHEDULE_CRON", "30 3 * * 1-5")
    monkeypatch.setenv("RECITE_SCHEDULE_TIMEZONE", "America/New_York")
    assert ServeSettings().schedule_cron == "30 3 * * 1-5"
    assert ServeSettings().schedule_timezone == "America/New_York"
    with pytest.raises(ValidationError):
        ServeSettings(schedule_cron="every night")
    with pytest.raises(ValidationError):
        ServeSettings(schedule_timezone="Mars/Base")


def test_deployments(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECITE_DB", "out/x.duckdb")
    monkeypatch.setenv("RECITE_SEEDS", "seeds")
    params = Settings().parameters()
    nightly, adhoc, reextract, cleanup = build_deployments(
        ServeSettings(schedule_cron="0 3 * * *", schedule_timezone="Europe/Berlin"), params
    )
    assert (nightly.name, adhoc.name, reextract.name, cleanup.name) == (
        "nightly", "adhoc", "adhoc", "daily"
    )
    [schedule] = nightly.schedules or []
    assert schedule.schedule.cron == "0 3 * * *"  # type: ignore[union-attr]
    assert schedule.schedule.timezone == "Europe/Berlin"
    assert not adhoc.schedules
    for dep in (nightly, adhoc):
        assert dep.enforce_parameter_schema and dep.paused is False
        assert dep.concurrency_limit == 1
        assert dep.entrypoint == "flows.ingest.ingest"
        assert dep.parameters == default_parameters(params)
        assert dep.parameters["params"]["db"] == str(tmp_path / "out" / "x.duckdb")
        assert dep.parameters["params"]["seeds"] == [str(tmp_path / "seeds")]
    assert reextract.entrypoint == "flows.reextract.reextract" and not reextract.schedules
    assert reextract.enforce_parameter_schema and reextract.concurrency_limit == 1
    assert reextract.parameters == {"params": {
        "db": str(tmp_path / "out" / "x.duckdb"), "extract_workers": params.extract_workers,
        "db_memory_limit": params.db_memory_limit, "report_dir": "",
    }}
    assert cleanup.parameters == {"older_than_days": 30}
    assert len(build_deployments(ServeSettings(prefect_retention_days=0), params)) == 3


def test_the_report_folder_is_made_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECITE_REPORT_DIR", "site")
    params = Settings().parameters()
    assert default_parameters(params)["params"]["report_dir"] == str(tmp_path / "site")
    *_, reextract, _ = build_deployments(ServeSettings(), params)
    assert reextract.parameters["params"]["report_dir"] == str(tmp_path / "site")
    assert Settings().parameters(report_dir="other").report_dir == "other"


def test_serve_refuses_a_bad_timezone_at_once() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "cli.main", "serve", "--timezone", "Mars/Base"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 2
    assert "Invalid timezone" in out.stderr


def test_serve_renders_the_report_before_the_first_run(tmp_path: Path) -> None:
    from deployments.serve import _first_report
    from storage.database import WorkingDatabase

    db = tmp_path / "recite.duckdb"
    params = Settings().parameters(db=str(db), report_dir=str(tmp_path / "site"))
    _first_report(params)  # no database yet: nothing to show, nothing written
    assert not (tmp_path / "site").exists()
    with WorkingDatabase(db) as work:
        work.publish()
    _first_report(params)
    assert (tmp_path / "site" / "index.html").is_file()
