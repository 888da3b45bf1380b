"""Alerts about nightly runs: Prefect automations that POST JSON to a webhook (issue 17).

`install_alerts` saves a Webhook block (`recite-alerts`) and four automations on the
Prefect server, one per event, each calling the block with its own JSON body:

    failed            a run of ingest/nightly ended Failed (an exception, e.g. the
                      database cannot be written)
    crashed           it ended Crashed: its process died (SIGKILL, OOM killer); the
                      process that started it (`recite serve`, a worker) reports it
    timed_out         it ended TimedOut (--timeout-hours)
    no_completed_run  no run completed within --alert-window-hours after the last one
                      that did (or after the automation was created): a proactive
                      trigger, evaluated by the server, so it fires even when nothing runs

A fifth automation, `recite: silent runs crashed`, installed with or without a webhook,
marks a run of `ingest` Crashed when it sent no heartbeat for three heartbeat periods
(Prefect's answer for a run whose supervising process died too: `recite serve` killed,
the machine rebooted; docs: "Detect and respond to zombie flows"). Flow runs send one
every PREFECT_FLOWS_HEARTBEAT_FREQUENCY seconds (180 by default in Prefect 3.9). The
`crashed` alert then follows.

The server's trigger service evaluates them, so an alert needs no recite process, and
one event fires its automation once: the reactive ones on each state event (threshold
1, no window), the proactive one once per window in which nothing completed (then its
window starts again). Installing again leaves an unchanged automation alone (it keeps
its window) and replaces a changed one; without a webhook the automations are deleted.
"""

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flows.settings import AlertSettings

if TYPE_CHECKING:
    from uuid import UUID

    from prefect.events.actions import CallWebhook
    from prefect.events.schemas.automations import AutomationCore, EventTrigger

BLOCK_NAME = "recite-alerts"
PREFIX = "recite alert: "
FLOW = "ingest"
DEPLOYMENT = "nightly"
# Prefect names a flow run's state events prefect.flow-run.<state name>.
REACTIVE = {"failed": "Failed", "crashed": "Crashed", "timed_out": "TimedOut"}
NO_RUN = "no_completed_run"
SILENT = "recite: silent runs crashed"
HEARTBEATS_MISSED = 3


def payload_template(
    event: str, db: str, ui: str | None = None, message: str | None = None
) -> str:
    """The Jinja template of `event`'s JSON body, rendered by the Prefect server.

    `flow_run` is the run of the triggering event (for no_completed_run: the last run that
    completed, if any); `db` is the deployment's database, for runs that name none; `ui`
    the UI's address as recite sees it, for a server that does not know its own.
    `message`, when given, stands for the state's message.
    """
    run_db = "(flow_run.parameters.get('params') or {}).get('db') or " + json.dumps(db)
    link = "flow_run|ui_url"
    if ui:
        link += f" or {json.dumps(ui.rstrip('/') + '/runs/flow-run/')} ~ flow_run.id|string"
    known = {
        "flow_run_id": "{{ flow_run.id|string|tojson }}",
        "flow_run_name": "{{ flow_run.name|tojson }}",
        "state": "{{ flow_run.state.name|tojson }}",
        "message": json.dumps(message) if message else "{{ flow_run.state.message|tojson }}",
        "db": "{{ (" + run_db + ")|tojson }}",
        "ui_url": "{{ (" + link + ")|tojson }}",
    }
    unknown = {key: "null" for key in known} | {
        "message": json.dumps(message), "db": json.dumps(db)
    }
    head = json.dumps({"event": event, "deployment": f"{FLOW}/{DEPLOYMENT}"})[:-1]
    return (
        f"{head}, {{% if flow_run %}}{_members(known)}{{% else %}}{_members(unknown)}"
        "{% endif %}}"
    )


def _members(values: dict[str, str]) -> str:
    return ", ".join(f"{json.dumps(key)}: {value}" for key, value in values.items())


def automations(
    settings: AlertSettings, block_id: "UUID", db: str, ui: str | None = None
) -> list["AutomationCore"]:
    """The automations of `settings`: one per event, each calling the webhook block."""
    from prefect.events.actions import CallWebhook
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    scope: dict[str, Any] = dict(
        match={"prefect.resource.id": "prefect.flow-run.*"},
        match_related=[
            {"prefect.resource.role": "flow", "prefect.resource.name": FLOW},
            {"prefect.resource.role": "deployment", "prefect.resource.name": DEPLOYMENT},
        ],
    )
    found: list[AutomationCore] = []
    for event, state in REACTIVE.items():
        trigger = EventTrigger(
            expect={f"prefect.flow-run.{state}"}, posture=Posture.Reactive, threshold=1,
            within=timedelta(0), **scope,
        )
        found.append(_automation(event, trigger, CallWebhook(
            block_document_id=block_id, payload=payload_template(event, db, ui))))
    hours = settings.alert_window_hours
    completed = "prefect.flow-run.Completed"
    # `after` and `expect` the same event: each completed run starts the window again
    # (the pattern of Prefect's zombie-run automation, docs: detect-zombie-flows).
    window = EventTrigger(
        after={completed}, expect={completed}, posture=Posture.Proactive, threshold=1,
        within=timedelta(hours=hours), **scope,
    )
    message = f"no run of {FLOW}/{DEPLOYMENT} completed in the last {hours:g} h"
    found.append(_automation(NO_RUN, window, CallWebhook(
        block_document_id=block_id, payload=payload_template(NO_RUN, db, ui, message))))
    return found


def _automation(event: str, trigger: "EventTrigger", action: "CallWebhook") -> "AutomationCore":
    from prefect.events.schemas.automations import AutomationCore

    return AutomationCore(
        name=PREFIX + event, description=f"recite: POST the {event!r} alert to the webhook "
        f"block {BLOCK_NAME!r} (deployments/alerts.py).", enabled=True,
        trigger=trigger, actions=[action],
    )


def silent_runs_crashed(heartbeat_seconds: int) -> "AutomationCore":
    """Marks an `ingest` run Crashed once it missed HEARTBEATS_MISSED heartbeats."""
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    silence = heartbeat_seconds * HEARTBEATS_MISSED
    ends = {f"prefect.flow-run.{s}" for s in ("Completed", "Failed", "Cancelled", "Crashed",
                                               "TimedOut")}
    heartbeat = "prefect.flow-run.heartbeat"
    trigger = EventTrigger(
        after={heartbeat}, expect={heartbeat, *ends}, for_each={"prefect.resource.id"},
        match={"prefect.resource.id": "prefect.flow-run.*"},
        match_related={"prefect.resource.role": "flow", "prefect.resource.name": FLOW},
        posture=Posture.Proactive, threshold=1, within=timedelta(seconds=silence),
    )
    action = ChangeFlowRunState(state=StateType.CRASHED, message=(
        f"no heartbeat for {silence} s: the process that ran it is gone (recite serve or "
        "the worker killed, the machine restarted)"))
    return AutomationCore(
        name=SILENT, description="recite: marks ingest runs whose process died unnoticed "
        "as Crashed (deployments/alerts.py).", enabled=True, trigger=trigger, actions=[action],
    )


async def install_alerts(settings: AlertSettings, db: str) -> int:
    """Save the webhook block and make the server's automations those of `settings`;
    how many alert automations are installed (0 without a webhook)."""
    from prefect import get_client
    from prefect.settings import get_current_settings

    heartbeat = get_current_settings().flows.heartbeat_frequency
    async with get_client() as client:
        alerts = await _wanted(settings, db)
        wanted = [*alerts, *([silent_runs_crashed(heartbeat)] if heartbeat else [])]
        existing = [a for a in await client.read_automations()
                    if a.name.startswith(PREFIX) or a.name == SILENT]
        keep = {a.name for a in wanted}
        for old in existing:
            twin = next((w for w in wanted if _same(w, old)), None)
            if twin is None or old.name not in keep:
                await client.delete_automation(old.id)
            else:
                keep.discard(old.name)  # unchanged: it keeps its proactive window
        for automation in wanted:
            if automation.name in keep:
                await client.create_automation(automation)
    return len(alerts)


async def _wanted(settings: AlertSettings, db: str) -> list["AutomationCore"]:
    if not settings.alert_webhook:
        return []
    from prefect.blocks.webhook import Webhook
    from prefect.settings import get_current_settings

    block = Webhook(
        method="POST", url=settings.alert_webhook,
        headers={"Content-Type": "application/json"},
        # The user names the URL; ntfy or a receiver on the intranet is a common choice.
        allow_private_urls=True,
    )
    block_id = await block.asave(BLOCK_NAME, overwrite=True)
    # Prefect's server renders `ui_url` only when it was told its UI's address.
    return automations(settings, block_id, db, get_current_settings().ui_url)


def _same(wanted: "AutomationCore", old: "AutomationCore") -> bool:
    fields = {"name", "description", "enabled", "trigger", "actions"}
    return bool(
        wanted.name == old.name
        and _sorted(wanted.model_dump(mode="json", include=fields, exclude={"trigger": {"id"}}))
        == _sorted(old.model_dump(mode="json", include=fields, exclude={"trigger": {"id"}}))
    )


def _sorted(value: Any) -> Any:
    """`value` with its lists of strings sorted: a trigger's sets come back in any order."""
    if isinstance(value, dict):
        return {k: _sorted(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_sorted(v) for v in value]
        return sorted(items) if all(isinstance(v, str) for v in items) else items
    return value
