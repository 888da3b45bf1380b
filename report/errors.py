"""The report's exceptions: one tree, database and file errors translated into it."""


class ReportError(Exception):
    """The report could not be built (no database, an unwritable folder, a bad query)."""
