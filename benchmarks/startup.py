"""Start-up: `recite run` on the example seeds against Prefect's own start-up.

Each figure is the wall time of a fresh process, as a user or a scheduler starts it:

* Prefect alone: a flow that does nothing, with no ``PREFECT_API_URL`` (Prefect then
  starts a temporary local server for the run) and against a running ``prefect server``;
* ``recite run --seeds examples/seeds`` in both settings (a fresh database each time;
  offline, the three URLs the example seeds cite end as dns_error or connect_error).

recite's own start-up is the difference between the two (target: at most 5 s). The
running server is started here unless ``--api-url`` names one; its start-up is printed
too, but it is paid once per machine, not per run.

    python benchmarks/startup.py --repeat 3
"""

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import prefect_env, prefect_server  # a sibling script

_ROOT = Path(__file__).resolve().parents[1]
_EMPTY_FLOW = "from prefect import flow\n\n@flow\ndef nothing() -> None:\n    pass\n\nnothing()\n"


def timed(args: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one process; fails loudly if it fails."""
    start = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, cwd=_ROOT)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{args[:4]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds


def median_of(label: str, runs: Sequence[float]) -> float:
    """Print the runs and return their median."""
    median = statistics.median(runs)
    print(f"  {label:46s} {median:6.1f} s  (runs: {', '.join(f'{r:.1f}' for r in runs)})")
    return median


def both(seeds: Path, env: dict[str, str], repeat: int, work: Path) -> tuple[float, float]:
    """Median seconds of Prefect alone and of `recite run`, in `env`."""
    prefect = [timed([sys.executable, "-c", _EMPTY_FLOW], env) for _ in range(repeat)]
    recite = []
    for n in range(repeat):
        db = work / f"db-{time.monotonic_ns()}-{n}" / "recite.duckdb"
        recite.append(timed([sys.executable, "-m", "cli.main", "run", "--seeds", str(seeds),
                             "--db", str(db)], env))
    return median_of("Prefect alone (a flow that does nothing)", prefect), median_of(
        f"recite run --seeds {seeds.name} (fresh database)", recite
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=Path, default=_ROOT / "examples" / "seeds")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind (median)")
    parser.add_argument("--api-url", default=None, help="a running Prefect server's API")
    parser.add_argument("--ephemeral", action=argparse.BooleanOptionalAction, default=True,
                        help="also time runs without PREFECT_API_URL (temporary server)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Time Prefect alone and `recite run`, with a temporary and with a running server."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="recite-startup-") as tmp, contextlib.ExitStack() as stack:
        work = Path(tmp)
        base = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        env = {**base, **prefect_env(work / "prefect-home"), "PREFECT_LOGGING_LEVEL": "WARNING"}
        print(f"start-up, median of {args.repeat} fresh processes each ({os.cpu_count()} CPUs):")
        if args.ephemeral:
            print("without PREFECT_API_URL (Prefect starts a temporary server for each run):")
            prefect, recite = both(args.seeds, env, args.repeat, work)
            print(f"  recite's own start-up: {recite - prefect:.1f} s (target <= 5 s)")
        api_url = args.api_url
        if api_url is None:
            api_url, started, _pid = stack.enter_context(prefect_server(work / "server-home"))
            print(f"prefect server start: {started:.1f} s (once per machine)")
        print("against a running server (PREFECT_API_URL set):")
        prefect, recite = both(args.seeds, {**env, "PREFECT_API_URL": api_url}, args.repeat, work)
        print(f"  recite's own start-up: {recite - prefect:.1f} s (target <= 5 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
