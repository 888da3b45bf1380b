"""Which ended runs start again (flows/resume.py), and the alert settings' checks.

The whole path (a killed run, a timed-out one, a real server and `recite serve`) is in
tests/deployments/test_alerts.py; here the decision on its own, for every case.
"""

import uuid
from typing import Any

import pytest
from prefect.client.schemas.objects import FlowRun
from prefect.states import Completed, Crashed, Failed
from pydantic import ValidationError

from flows.resume import attempt_of, attempts_allowed, should_resume
from flows.settings import AlertSettings


def run(tags: list[str], params: dict[str, Any] | None = None, deployment: bool = True) -> FlowRun:
    return FlowRun(
        flow_id=uuid.uuid4(), deployment_id=uuid.uuid4() if deployment else None,
        tags=tags, parameters={} if params is None else {"params": params},
    )


def test_attempts_are_counted_from_the_tags() -> None:
    assert attempt_of(["recite"]) == 0
    assert attempt_of(["recite", "recite-resume:2", "recite-resume-of:x"]) == 2
    assert attempt_of(["recite-resume:oops"]) == 0


def test_crashed_and_timed_out_deployment_runs_resume_until_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RECITE_RESUME_ATTEMPTS", raising=False)
    timed_out = Failed(name="TimedOut")
    assert should_resume(run([]), Crashed())
    assert should_resume(run([]), timed_out)
    assert should_resume(run(["recite-resume:1"]), Crashed())  # the default allows 2
    assert not should_resume(run(["recite-resume:2"]), Crashed())
    assert not should_resume(run([], {"resume_attempts": 0}), Crashed())
    assert should_resume(run(["recite-resume:4"], {"resume_attempts": 5}), timed_out)
    # Not retried: other failures, completed runs, runs without a deployment.
    assert not should_resume(run([]), Failed())
    assert not should_resume(run([]), Completed())
    assert not should_resume(run([], deployment=False), Crashed())


def test_the_limit_comes_from_the_run_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECITE_RESUME_ATTEMPTS", "5")
    assert attempts_allowed({}) == 5
    assert attempts_allowed({"params": {"resume_attempts": 1}}) == 1
    monkeypatch.setenv("RECITE_RESUME_ATTEMPTS", "many")
    assert attempts_allowed({}) == 2


def test_alert_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECITE_ALERT_WEBHOOK", raising=False)
    assert AlertSettings().alert_webhook is None and AlertSettings().alert_window_hours == 26
    monkeypatch.setenv("RECITE_ALERT_WEBHOOK", "https://ntfy.sh/recite-test")
    assert AlertSettings().alert_webhook == "https://ntfy.sh/recite-test"
    assert AlertSettings(alert_webhook=" ").alert_webhook is None
    with pytest.raises(ValidationError):
        AlertSettings(alert_webhook="ntfy.sh/topic")
    with pytest.raises(ValidationError):  # Prefect's proactive windows are 10 s or more
        AlertSettings(alert_window_hours=5 / 3600)
