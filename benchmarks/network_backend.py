"""Fetching CPU on each httpcore network backend: recite's asyncio streams vs httpcore's own.

fetching/streams.py replaces httpcore's default network backend (anyio) with one on
plain asyncio streams (issue 7, to cut the flow's fetch CPU). Issue 17 asks whether to
keep it or go back to httpcore's own backend (``httpcore.AnyIOBackend``), in both
cases under recite's address-pinning ``PinnedBackend``. This measures both in one run:
``--pages`` corpus pages spread over ``--hosts`` loopback hosts (one robots.txt each),
served by throughput.py's page server in its own process, fetched by one Fetcher per
round, with no politeness delay (so CPU, not waiting, is what differs). Rounds
alternate the order of the two backends; the figure is the median CPU seconds of this
process (time.process_time) per backend, and their ratio.

    python benchmarks/network_backend.py --corpus ../shared/corpus/aeb/html --pages 2000
"""

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpcore

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import page_server, page_url  # a sibling module

from fetching import FetchConfig, Fetcher, FetchRequest, make_client
from fetching.streams import AsyncioBackend

BACKENDS: dict[str, Callable[[], httpcore.AsyncNetworkBackend]] = {
    "asyncio streams (fetching/streams.py)": AsyncioBackend,
    "httpcore's AnyIOBackend": httpcore.AnyIOBackend,
}


async def fetch_all(urls: Sequence[str], backend: httpcore.AsyncNetworkBackend) -> int:
    """Fetch every URL with one Fetcher on `backend`; the number that came back ok."""
    config = FetchConfig(
        per_host_delay=0.0, allow_private_addresses=True, allowed_ports=None, max_attempts=1,
    )
    async with make_client(config, network_backend=backend) as client:
        results = await Fetcher(config, client).fetch_many([FetchRequest(u) for u in urls])
    return sum(r.ok for r in results)


def one_round(urls: Sequence[str], name: str) -> tuple[float, float, int]:
    """CPU and wall seconds of fetching `urls` on backend `name`, and the pages ok."""
    cpu, wall = time.process_time(), time.perf_counter()
    ok = asyncio.run(fetch_all(urls, BACKENDS[name]()))
    return time.process_time() - cpu, time.perf_counter() - wall, ok


def main(argv: Sequence[str] | None = None) -> int:
    """Fetch the pages on each backend, alternating, and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True,
                        help="Folder of *.html(.gz) pages (e.g. ../shared/corpus/aeb/html).")
    parser.add_argument("--pages", type=int, default=2000, help="Pages fetched per round.")
    parser.add_argument("--hosts", type=int, default=500, help="Loopback hosts they spread over.")
    parser.add_argument("--rounds", type=int, default=5, help="Rounds per backend (median).")
    args = parser.parse_args(argv)
    names = list(BACKENDS)
    cpu: dict[str, list[float]] = {name: [] for name in names}
    with page_server(args.corpus) as (port, _):
        urls = [page_url(i, args.hosts, port) for i in range(args.pages)]
        for round_no in range(args.rounds):
            for name in names if round_no % 2 == 0 else names[::-1]:
                seconds, wall, ok = one_round(urls, name)
                cpu[name].append(seconds)
                print(f"round {round_no + 1}: {name}: {seconds:.2f} s CPU, {wall:.2f} s wall, "
                      f"{ok}/{len(urls)} ok", flush=True)
    print(f"{args.pages} pages + {min(args.hosts, args.pages)} robots.txt, "
          f"median of {args.rounds} rounds:")
    for name in names:
        print(f"  {name}: {statistics.median(cpu[name]):.2f} s CPU")
    ratio = statistics.median(cpu[names[1]]) / statistics.median(cpu[names[0]])
    print(f"httpcore's backend / asyncio streams: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
