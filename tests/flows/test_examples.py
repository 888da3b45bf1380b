"""The shipped example seeds, with no network: every cited URL ends with a network error."""

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import duckdb
import pytest

from fetching import Fetcher, make_client
from fetching.config import FetchConfig
from fetching.errors import DNSError
from fetching.guard import IPAddress
from flows import resources
from flows.ingest import ingest
from flows.settings import IngestParameters

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "seeds"
pytestmark = pytest.mark.usefixtures("prefect_harness")


class NoNetwork:
    """A resolver for a machine without a network: every name fails to resolve."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        raise DNSError(f"cannot resolve {host!r}: no network in tests")


@contextlib.asynccontextmanager
async def offline_fetcher(config: FetchConfig) -> AsyncIterator[Fetcher]:
    async with make_client(config, resolver=NoNetwork()) as client:
        yield Fetcher(config, client, resolver=NoNetwork())


def test_example_seeds_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(EXAMPLES, seeds)
    monkeypatch.setattr(resources, "open_fetcher", offline_fetcher)
    db = tmp_path / "recite.duckdb"
    summary = asyncio.run(ingest(IngestParameters(seeds=[str(seeds)], db=str(db),
                                                  memento_timegate="")))

    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM documents WHERE kind = 'seed'").fetchone() == (3,)
        outcomes = con.execute(
            "SELECT u.url, u.last_outcome FROM citations c JOIN urls u USING (url) "
            "JOIN seeds s ON s.doc_id = c.doc_id WHERE s.path LIKE '%000_311acd24e07aa084.txt'"
        ).fetchall()
        assert len(outcomes) == 3
        assert {o for _, o in outcomes} == {"dns_error"}
        assert con.execute("SELECT count(*) FROM passages").fetchone()[0] > 30  # type: ignore[index]
        headline = con.execute(
            "SELECT count(*) FROM passages WHERE text LIKE 'Borrell says that any discussion%'"
        ).fetchone()
        assert headline == (3,)
    assert summary.count("fetch", "dns_error") == 3
    with duckdb.connect(str(db), read_only=True) as con:
        checks = con.execute(
            "SELECT quote_ordinal, url, result FROM quote_checks "
            "WHERE seed LIKE '%000_311acd24e07aa084.txt'"
        ).fetchall()
        support = con.execute(
            "SELECT quotes_checked, exact, near, absent, unavailable FROM citation_support "
            "WHERE seed LIKE '%000_311acd24e07aa084.txt'"
        ).fetchall()
    # Four quotations in 000_... ("political Kama Sutra." among them), each against its
    # three cited URLs, none of which resolves: unavailable, never absent.
    assert len({q for q, _, _ in checks}) == 4
    assert len(checks) == 4 * 3
    assert {r for _, _, r in checks} == {"unavailable"}
    assert support == [(4, 0, 0, 0, 4)] * 3
    assert summary.count("quotes", "unavailable") == 4 * 3  # 001_ and 002_ cite nothing
    assert summary.count("quotes", "found") == 4 + 18 + 3
