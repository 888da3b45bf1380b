"""Entry point of the `recite` script: `recite run`'s temporary Prefect server started
first (cli/temporary_server.py), the CLI, then a quiet interpreter exit.

duckdb 2.0's nanobind bindings print dozens of "nanobind: leaked instance" lines during
interpreter finalization after an async Prefect flow has opened a database file, though
everything is committed, closed and published by then. This module registers, before
duckdb is imported, an exit handler that runs after all the others (atexit is
last-in, first-out: Prefect stops its temporary server, logging flushes) and ends the
process with the command's status before finalization prints that noise.
"""

import atexit
import contextlib
import os
import sys


class _Exit:
    """The command's exit status, applied after every other exit handler has run."""

    code = 0

    def leave(self) -> None:
        """Flush the standard streams and end the process with the status."""
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(self.code)


def main() -> None:
    """Run the `recite` command line."""
    status = _Exit()
    atexit.register(status.leave)
    from cli.temporary_server import start_early

    start_early(sys.argv[1:])  # before Prefect is imported (issue 20)
    from cli.main import main as cli_main

    try:
        cli_main()
    except SystemExit as exc:
        status.code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        raise
    except BaseException:
        status.code = 1
        raise


if __name__ == "__main__":
    main()
