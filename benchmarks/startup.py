"""Start-up: `recite run` on the example seeds against Prefect's own start-up.

Each figure is the wall time of a fresh process, as a user or a scheduler starts it, with
the CPU seconds it and its children (a temporary server) used, and where the wall time
went, from the run's own log lines: until the flow run begins (imports and server),
the flow, and the exit after it (log and event flushing, stopping a temporary server).

* Prefect alone: a flow that does nothing, with no ``PREFECT_API_URL`` (Prefect then
  starts a temporary local server for the run) and against a running ``prefect server``;
* ``recite run --seeds examples/seeds`` in both settings (a fresh database each time;
  offline, the three URLs the example seeds cite end as dns_error or connect_error).

With no ``PREFECT_API_URL``, "before" is the ``recite`` script as it started before issue
20's start-up change (its early server turned off: Prefect starts its temporary server
when the flow first asks for a client) and "after" the ``recite`` script as it is
(``python -m cli.entry run``: recite starts that server first, while it imports). They
alternate, run by run, in the same PREFECT_HOME (its database already migrated) and, with
``--fresh-home``, each in a new PREFECT_HOME, as a newcomer's very first run is.

With ``--recite-server`` (the default), it also times ``recite server`` once (Prefect's
server in the background, in a fresh PREFECT_HOME on a free port), then ``recite run``
with no ``PREFECT_API_URL``, which finds that server. recite's own start-up is the
difference between ``recite run`` and Prefect alone against a running server (target:
at most 5 s). The running server is started here unless ``--api-url`` names one; its
start-up is printed too, but it is paid once per machine, not per run.

    python benchmarks/startup.py --repeat 3
"""

import argparse
import contextlib
import datetime
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import prefect_env, prefect_server  # a sibling script

_ROOT = Path(__file__).resolve().parents[1]
_EMPTY_FLOW = "from prefect import flow\n\n@flow\ndef nothing() -> None:\n    pass\n\nnothing()\n"
RECITE = [sys.executable, "-m", "cli.entry"]  # the `recite` script
# The `recite` script as before issue 20's start-up change: no temporary server of its
# own, so Prefect starts one when the flow first asks for a client.
BEFORE = [sys.executable, "-c", "import cli.temporary_server as t; t.start_early = lambda args: None; "
          "from cli.entry import main; main()"]
_LOG_TIME = re.compile(
    r"^(\d\d):(\d\d):(\d\d\.\d+) \| \w+ +\| Flow run '[^']*' - (Beginning flow run|Finished in state)"
)


@dataclass(frozen=True, slots=True)
class Timed:
    """One process: wall and CPU seconds, and the flow's own span when it logged one."""

    wall: float
    cpu: float
    to_flow: float | None = None  # process start -> "Beginning flow run"
    flow: float | None = None  # "Beginning flow run" -> "Finished in state"


def timed(args: list[str], env: dict[str, str], expect: str = "") -> Timed:
    """Time one process; fails loudly if it fails or `expect` is not in its stderr."""
    cpu0 = _children_cpu()
    start_clock = datetime.datetime.now()
    start = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, cwd=_ROOT)
    seconds = time.perf_counter() - start
    if done.returncode != 0 or expect not in done.stderr:
        raise RuntimeError(f"{args[:4]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    marks = _log_marks(done.stderr, start_clock)
    to_flow = marks.get("Beginning flow run")
    end = marks.get("Finished in state")
    flow = end - to_flow if to_flow is not None and end is not None else None
    return Timed(seconds, _children_cpu() - cpu0, to_flow, flow)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # includes their own children
    return usage.ru_utime + usage.ru_stime


def _log_marks(stderr: str, start: datetime.datetime) -> dict[str, float]:
    """Seconds from `start` to the first log line of each mark (Prefect logs local time)."""
    marks: dict[str, float] = {}
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    for line in stderr.splitlines():
        if (found := _LOG_TIME.match(line)) and found.group(4) not in marks:
            hours, minutes, secs = int(found.group(1)), int(found.group(2)), float(found.group(3))
            at = midnight + datetime.timedelta(hours=hours, minutes=minutes, seconds=secs)
            marks[found.group(4)] = (at - start).total_seconds() % 86400
    return marks


def median_of(label: str, runs: Sequence[Timed]) -> float:
    """Print the runs' medians (wall, CPU, and the wall's parts) and return the wall's."""
    wall = statistics.median(r.wall for r in runs)
    cpu = statistics.median(r.cpu for r in runs)
    line = f"  {label:52s} {wall:6.1f} s, CPU {cpu:5.1f} s"
    spans = [r for r in runs if r.to_flow is not None and r.flow is not None]
    if spans:
        to_flow = statistics.median(r.to_flow for r in spans if r.to_flow is not None)
        flow = statistics.median(r.flow for r in spans if r.flow is not None)
        rest = statistics.median(r.wall - (r.to_flow or 0) - (r.flow or 0) for r in spans)
        line += f"  [until the flow begins {to_flow:.1f} s, flow {flow:.1f} s, exit {rest:.1f} s]"
    print(f"{line}  (runs: {', '.join(f'{r.wall:.1f}' for r in runs)})")
    return wall


def recite_run(command: list[str], seeds: Path, env: dict[str, str], work: Path,
               expect: str = "") -> Timed:
    """One `recite run` on `seeds`, on a fresh database."""
    db = work / f"db-{time.monotonic_ns()}" / "recite.duckdb"
    return timed([*command, "run", "--seeds", str(seeds), "--db", str(db)], env, expect)


def prefect_alone(env: dict[str, str], repeat: int) -> float:
    """Median seconds of a Prefect flow that does nothing, in `env` (printed)."""
    runs = [timed([sys.executable, "-c", _EMPTY_FLOW], env) for _ in range(repeat)]
    return median_of("Prefect alone (a flow that does nothing)", runs)


def both(seeds: Path, env: dict[str, str], repeat: int, work: Path) -> tuple[float, float]:
    """Median seconds of Prefect alone and of `recite run`, in `env`."""
    prefect = prefect_alone(env, repeat)
    recite = [recite_run(RECITE, seeds, env, work) for _ in range(repeat)]
    return prefect, median_of(f"recite run --seeds {seeds.name} (fresh database)", recite)


def before_after(seeds: Path, env: dict[str, str], repeat: int, work: Path,
                 fresh_home: bool) -> tuple[float, float]:
    """`recite run` before and after the early temporary server, alternating; medians."""
    before, after = [], []
    for n in range(repeat):
        for command, runs, name in ((BEFORE, before, "before"), (RECITE, after, "after")):
            home = {"PREFECT_HOME": str(work / f"home-{name}-{n}")} if fresh_home else {}
            expect = "temporary Prefect server for this run" if command is RECITE else ""
            runs.append(recite_run(command, seeds, {**env, **home}, work, expect))
    return (median_of("before: Prefect starts its server", before),
            median_of("after: recite starts it first (recite = python -m cli.entry)", after))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=Path, default=_ROOT / "examples" / "seeds")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind (median)")
    parser.add_argument("--api-url", default=None, help="a running Prefect server's API")
    parser.add_argument("--ephemeral", action=argparse.BooleanOptionalAction, default=True,
                        help="also time runs without PREFECT_API_URL (temporary server)")
    parser.add_argument("--fresh-home", action=argparse.BooleanOptionalAction, default=True,
                        help="also time them each in a new PREFECT_HOME (a first run ever)")
    parser.add_argument("--recite-server", action=argparse.BooleanOptionalAction, default=True,
                        help="also time `recite server` once, then `recite run` using it")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Time Prefect alone and `recite run`, with a temporary and with a running server."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="recite-startup-") as tmp, contextlib.ExitStack() as stack:
        work = Path(tmp)
        base = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        env = {**base, **prefect_env(work / "prefect-home"), "PREFECT_LOGGING_LEVEL": "INFO",
               # Prefect's 20 s fails here under load; recite run uses 120 s (issue 20).
               "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}
        print(f"start-up, median of {args.repeat} fresh processes each ({os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}):")
        if args.ephemeral:
            ephemeral(args, env, work)
        api_url = args.api_url
        if api_url is None:
            api_url, started, _pid = stack.enter_context(prefect_server(work / "server-home"))
            print(f"prefect server start: {started:.1f} s (once per machine)")
        print("against a running server (PREFECT_API_URL set):")
        prefect, recite = both(args.seeds, {**env, "PREFECT_API_URL": api_url}, args.repeat, work)
        print(f"  recite's own start-up: {recite - prefect:.1f} s (target <= 5 s)")
        if args.recite_server:
            recite_server_runs(args.seeds, env, args.repeat, work)
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


def ephemeral(args: argparse.Namespace, env: dict[str, str], work: Path) -> None:
    """The runs with no PREFECT_API_URL: a temporary server for each."""
    print("without PREFECT_API_URL (a temporary server for each run):")
    if args.fresh_home:
        print(" in a new PREFECT_HOME each (a newcomer's first run: Prefect migrates its database):")
        first, first_after = before_after(args.seeds, env, args.repeat, work, fresh_home=True)
        print(f"  first run ever: {first:.1f} s before, {first_after:.1f} s after")
    print(" in one PREFECT_HOME (its database migrated by the first run):")
    prefect_alone(env, args.repeat)
    before, after = before_after(args.seeds, env, args.repeat, work, fresh_home=False)
    print(f"  later runs: {before:.1f} s before, {after:.1f} s after")


def recite_server_runs(seeds: Path, env: dict[str, str], repeat: int, work: Path) -> None:
    """Start `recite server` in a fresh PREFECT_HOME, time `recite run` finding it; stop it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**env, "PREFECT_HOME": str(work / "recite-server-home"),
           "PREFECT_SERVER_API_PORT": str(port), "PREFECT_UI_ENABLED": "false"}
    print("`recite server` (prefect server start --background), then no PREFECT_API_URL:")
    started = timed([*RECITE, "server"], env)
    print(f"  recite server: {started.wall:.1f} s (once per machine)")
    try:
        runs = [recite_run(RECITE, seeds, env, work, expect="recite server: using")
                for _ in range(repeat)]
        median_of(f"recite run --seeds {seeds.name} (finds the server)", runs)
    finally:
        subprocess.run([sys.executable, "-m", "prefect", "server", "stop"], env=env,
                       capture_output=True, cwd=_ROOT)


if __name__ == "__main__":
    sys.exit(main())
