"""The extraction pool: warm start, and workers that do not outlive a killed flow process."""

import os
import subprocess
import sys
import textwrap
import time

from pipeline.extraction import ExtractionPool

_KILLED_PARENT = textwrap.dedent(
    """
    import os, signal, time
    from pipeline.extraction import ExtractionPool

    if __name__ == "__main__":
        pool = ExtractionPool(2)
        pool.warm(100)
        pool.extract([("<html><body><p>x</p></body></html>", "http://a.test/")] * 8)
        print(" ".join(str(p) for p in pool._executor()._processes), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """
)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_workers_exit_when_the_flow_process_is_killed() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_PARENT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == -9, done.stderr[-2000:]
    workers = [int(p) for p in done.stdout.split()]
    assert len(workers) == 2
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in workers)


def test_warm_starts_no_worker_for_a_small_run() -> None:
    with ExtractionPool(2) as pool:
        pool.warm(3)
        assert pool._pool is None
        pool.warm(50)
        assert pool._pool is not None
    assert os.getpid() > 0
