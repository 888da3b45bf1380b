"""A published database built once by the real flow, for tests that only read it."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.site import Site
from tests.sqlclients.corpus import build, write_seeds


@pytest.fixture(scope="session")
def corpus_db(
    tmp_path_factory: pytest.TempPathFactory, site: Site, prefect_harness: None
) -> Iterator[Path]:
    """The published database after two runs over the SQL-client seeds (read it only)."""
    root = tmp_path_factory.mktemp("corpus")
    db = root / "db" / "recite.duckdb"
    seeds = write_seeds(root / "seeds", site)
    build(db, seeds)
    build(db, seeds)  # a second night: unchanged pages, a second row in runs
    yield db
