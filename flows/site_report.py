"""The HTML report (report/) refreshed at the end of a run, when `--report-dir` is set.

It is rendered from the published database, after the publish, so it shows what SQL
clients see. A report that cannot be built is a warning in the run's log and summary:
the run has completed and published by then, and stays completed.
"""

import logging
from pathlib import Path

from report import build_report


def report_url(report_dir: str) -> str | None:
    """The file:// URL of the report's overview page, or None when there is no report."""
    if not report_dir:
        return None
    return (Path(report_dir).expanduser().absolute() / "index.html").as_uri()


def refresh_report(
    db: str, report_dir: str, logger: logging.Logger | logging.LoggerAdapter[logging.Logger]
) -> tuple[str, ...]:
    """Render the report of `db` into `report_dir`; the warnings (none when it worked)."""
    if not report_dir:
        return ()
    try:
        result = build_report(Path(db), Path(report_dir))
    # The run has completed and published: nothing the report does may fail it, a bug in
    # a template included (ReportError covers the database and the folder).
    except Exception as exc:
        message = f"the HTML report in {report_dir} could not be refreshed: {exc}"
        logger.warning(message)
        return (message,)
    logger.info("report refreshed: %s (%d files)", result.index, result.files)
    return ()
