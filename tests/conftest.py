"""Shared fixtures: one Prefect test harness per session, a local site on 127.0.0.1, and a
published database built once by the real flow, for tests that only read it."""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Set before Prefect is imported anywhere: its settings are read on first use.
_PREFECT_HOME = tempfile.mkdtemp(prefix="recite-prefect-")
os.environ.setdefault("PREFECT_HOME", _PREFECT_HOME)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_TO_API_BATCH_INTERVAL", "0.3")
# No test asks the Internet Archive for dead links (`recite run` reads RECITE_* settings).
os.environ.setdefault("RECITE_MEMENTO_TIMEGATE", "")
# A catch-up that differs from the published file fails the run instead of copying it
# (storage/catch_up.py): a write that forgets to mark its keys shows up in any test.
os.environ.setdefault("RECITE_CATCH_UP_STRICT", "1")

from tests.site import Site, serve_site  # noqa: E402


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server for the whole session (starting one costs 8-15 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    """A real HTTP server on 127.0.0.1 serving the article pages of tests/site.py."""
    with serve_site() as running:
        yield running


@pytest.fixture(scope="session")
def corpus_db(
    tmp_path_factory: pytest.TempPathFactory, site: Site, prefect_harness: None
) -> Iterator[Path]:
    """The published database after two runs over the SQL-client seeds (read it only)."""
    # Imported here: the corpus runs the flow, which most test sessions never import.
    from tests.sqlclients.corpus import build, write_seeds

    root = tmp_path_factory.mktemp("corpus")
    db = root / "db" / "recite.duckdb"
    seeds = write_seeds(root / "seeds", site)
    build(db, seeds)
    # A second night: most pages unchanged, /live changed, /retracted gone (in link_rot
    # at once), a second row in runs.
    build(db, seeds, gone_after_runs=1)
    yield db
