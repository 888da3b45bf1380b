"""Fault injection for crash tests: SIGKILL this process at a named point of the run.

Set `RECITE_FAULT_KILL_AT=<point>` (or `<point>:<n>` for its n-th pass) and the run
kills itself there, the way an OOM killer or a reboot would. Unset, `checkpoint` is a
dictionary lookup. The points are listed in `POINTS`; tests/flows/test_resume.py
kills a run at each of them and checks the next run ends where an uninterrupted one does.
"""

import os
import signal
from collections import Counter

POINTS = (
    "seeds-read",
    "seeds-stored",
    "batch-fetched",
    "batch-stored",
    "fetch-done",
    "dedup-batch",
    "clusters",
    "passages",
    "quotes-indexed",
    "quotes",
    "run-finished",
    "publish-copied",
    "published",
)
_passes: Counter[str] = Counter()


def checkpoint(point: str) -> None:
    """Kill the process here if `RECITE_FAULT_KILL_AT` names this point (and pass)."""
    spec = os.environ.get("RECITE_FAULT_KILL_AT")
    if not spec:
        return
    name, _, nth = spec.partition(":")
    if name != point:
        return
    _passes[point] += 1
    if _passes[point] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
