"""Errors of the storage layer; duckdb and OS errors are translated here.

    StorageError
    ├── DatabaseLocked       another process holds the working database (another run)
    ├── DatabaseUnavailable  the database location cannot be created, opened or written
    ├── PublishError         the finished run could not be published to the client file
    ├── ArchiveMissing       a response's body is not in the archive file it names
    └── RunTimedOut          a run went past --timeout-hours; it published nothing
"""


class StorageError(Exception):
    """Base of every storage error."""


class DatabaseLocked(StorageError):
    """Another recite run is writing this database."""


class DatabaseUnavailable(StorageError):
    """The database path cannot be created, opened or written."""


class PublishError(StorageError):
    """Publishing the working database to the client path failed; the old file stays."""


class ArchiveMissing(StorageError):
    """A stored response's body is not in the archive folder (files removed by hand?)."""


# Also a TimeoutError: Prefect ends a flow run that raises one in its `TimedOut` state
# (prefect/flow_engine.py handle_timeout), which alerts and resume attempts react to.
class RunTimedOut(StorageError, TimeoutError):
    """A run took longer than its timeout and stopped; the next run resumes from it."""
