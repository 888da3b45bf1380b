"""The published database in clients we did not write: duckdb CLI, Node, Python duckdb 1.1.

Every query of docs/sql.md, every view and every comment gives the same rows in each
client as in the Python duckdb recite writes with, on a database the real flow built;
and each client opens the published file, read-only, while a run writes. Under
`CI=true` a client that cannot be installed fails the test instead of skipping it.
"""

import os
import threading
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from tests.site import Site
from tests.sqlclients.corpus import build
from tests.sqlclients.real_clients import (
    Client,
    ClientUnavailable,
    as_text,
    duckdb_cli,
    node_api,
    oldest_python,
    this_python,
    values,
)
from tests.sqlclients.test_docs_queries import QUERIES, runnable
from tests.sqlclients.test_failed_runs import first_night

INSTALLERS: dict[str, Callable[[], Client]] = {
    "duckdb-cli": duckdb_cli, "node-api": node_api, "python-duckdb-oldest": oldest_python,
}
CATALOG = (
    "SELECT table_name, comment FROM duckdb_tables()",
    "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal",
    "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
    "WHERE NOT internal",
)


@pytest.fixture(scope="session", params=list(INSTALLERS))
def client(request: pytest.FixtureRequest) -> Client:
    try:
        return INSTALLERS[request.param]()
    except ClientUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{request.param} could not be installed: {exc}")
        pytest.skip(f"{request.param} could not be installed here: {exc}")


def every_query(db: Path) -> list[str]:
    """The documented queries, a SELECT * of every view, and the catalog with comments."""
    with duckdb.connect(str(db), read_only=True) as con:
        views = [v for (v,) in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1").fetchall()]
    documented = [runnable(sql, db) for _, sql in QUERIES]
    return documented + [f"SELECT * FROM {v}" for v in views] + list(CATALOG)


def test_every_query_view_and_comment_gives_the_writers_rows(corpus_db: Path, client: Client) -> None:
    queries = every_query(corpus_db)
    assert len(queries) >= 25
    expected = this_python().run(corpus_db, [as_text(q) for q in queries])
    got = client.run(corpus_db, [as_text(q) for q in queries])
    for sql, want, have in zip(queries, expected, got, strict=True):
        assert isinstance(want, list), (sql, want)
        assert isinstance(have, list), (client.name, sql, have)
        assert values(have) == values(want), (client.name, sql)
    comments = got[-1]
    assert isinstance(comments, list) and all(row[3] not in (None, "null") for row in comments), comments


def test_client_opens_the_published_file_while_a_run_writes(
    tmp_path: Path, site: Site, client: Client
) -> None:
    state = as_text(
        "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM runs), "
        "(SELECT count(*) FROM near_duplicates)"
    )
    db, night, all_seeds = first_night(tmp_path, site)
    old = client.run(db, [state])[0]
    assert isinstance(old, list) and old[0][1] == "1", old

    seen: list[object] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append(client.run(db, [state])[0])

    watcher = threading.Thread(target=watch)
    for seed in all_seeds.iterdir():
        (night / seed.name).write_bytes(seed.read_bytes())
    watcher.start()
    try:
        build(db, night)
    finally:
        stop.set()
        watcher.join()
    new = client.run(db, [state])[0]
    assert isinstance(new, list) and new[0][1] == "2" and new != old
    assert seen and all(result in (old, new) for result in seen), seen  # never an error or a mix
