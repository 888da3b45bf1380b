"""The report: a static site of what recite found, rendered from the published database.

`build_report(db, out)` reads the published DuckDB file read-only (storage.database
`open_published`, so it works while a run writes its working file) and writes HTML pages
that open from file:// with no server: an overview with a chart of runs over time,
duplicate clusters side by side, repeated passages, page changes, quote checks, fetch
failures, and a search page over URLs and titles. Plain code, no Prefect.
"""

from report.build import ReportResult, build_report
from report.errors import ReportError

__all__ = ["ReportError", "ReportResult", "build_report"]
