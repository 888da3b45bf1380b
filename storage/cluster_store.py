"""The clusters table kept up to date from what changed (issue 20), not rebuilt every night.

Every write that adds, removes or changes a verified pair, or replaces a document's text,
marks the documents concerned in `cluster_dirty` (in the same transaction). The clusters
step then re-clusters only the connected components those documents belong to, now and
before: a component untouched by any change is, pair for pair, the one clustered before.
"""

import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime

import duckdb
import pyarrow as pa

from dedup.cluster import ClusterMember
from dedup.verify import DuplicatePair
from storage.bulk import registered
from storage.changes import mark, mark_table, mark_values
from storage.columns import arrow_table, from_row, named_rows, select_list


def cluster_mates(ids: str) -> str:
    """A query of every member of a cluster holding a document of the subquery `ids`."""
    return (
        "SELECT doc_id FROM clusters WHERE cluster_id IN "
        f"(SELECT cluster_id FROM clusters WHERE doc_id IN {ids})"
    )


def mark_changed(con: duckdb.DuckDBPyConnection, ids: str, with_cluster_mates: bool = False) -> None:
    """Mark the documents of the subquery `ids` and their pair partners for the next update.

    Call it before their pairs are deleted (their partners are read from the pairs).
    `with_cluster_mates` also marks every member of a cluster holding one of them, for
    callers that delete those clusters.
    """
    mates = f" UNION {cluster_mates(ids)}" if with_cluster_mates else ""
    con.execute(
        f"INSERT INTO cluster_dirty SELECT * FROM {ids} "
        f"UNION SELECT doc_b FROM duplicate_pairs WHERE doc_a IN {ids} "
        f"UNION SELECT doc_a FROM duplicate_pairs WHERE doc_b IN {ids}{mates}"
    )


def mark_pairs(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Mark both documents of each pair in the registered `table` (doc_a, doc_b)."""
    con.execute(
        f"INSERT INTO cluster_dirty SELECT doc_a FROM {table} UNION SELECT doc_b FROM {table}"
    )


class ClusterStore:
    """Reads and writes of the clusters and their update state."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    @contextlib.contextmanager
    def _ids(self, ids: Sequence[int]) -> Iterator[str]:
        table = pa.table({"id": pa.array(list(ids), pa.int64())})
        with registered(self.con, "cluster_ids", table) as name:
            yield f"(SELECT id FROM {name})"

    def built_threshold(self) -> float | None:
        """The threshold the clusters were last rebuilt at; None if never (or before 100)."""
        rows = self.con.execute("SELECT threshold FROM cluster_state").fetchall()
        return float(rows[0][0]) if rows else None

    def changed_documents(self) -> list[int]:
        """The documents marked since the last update, by id."""
        rows = self.con.execute("SELECT DISTINCT doc_id FROM cluster_dirty ORDER BY 1").fetchall()
        return [int(r[0]) for r in rows]

    def reach(self, doc_ids: Sequence[int], threshold: float) -> set[int]:
        """Documents one verified pair at `threshold` away from `doc_ids`, or in their clusters."""
        with self._ids(doc_ids) as ids:
            rows = self.con.execute(
                f"""
                SELECT doc_b FROM duplicate_pairs WHERE jaccard >= ? AND doc_a IN {ids}
                UNION SELECT doc_a FROM duplicate_pairs WHERE jaccard >= ? AND doc_b IN {ids}
                UNION {cluster_mates(ids)}
                """,
                [threshold, threshold],
            ).fetchall()
        return {int(r[0]) for r in rows}

    def pairs_of(self, doc_ids: Sequence[int], threshold: float) -> list[DuplicatePair]:
        """Stored pairs at `threshold` with a document in `doc_ids`."""
        with self._ids(doc_ids) as ids:
            cursor = self.con.execute(
                f"SELECT {select_list(DuplicatePair)} FROM duplicate_pairs "
                f"WHERE jaccard >= ? AND (doc_a IN {ids} OR doc_b IN {ids}) ORDER BY doc_a, doc_b",
                [threshold],
            )
            return [from_row(DuplicatePair, row) for row in named_rows(cursor)]

    def replace(self, doc_ids: Sequence[int], members: Sequence[ClusterMember]) -> None:
        """Replace the clusters rows of `doc_ids` with `members`; the marks are consumed."""
        with self._ids(doc_ids) as ids:
            mark(self.con, "docs", ids)
            self.con.execute(f"DELETE FROM clusters WHERE doc_id IN {ids}")
        mark_values(self.con, "docs", [m.doc_id for m in members])
        self._insert(members)
        self.con.execute("DELETE FROM cluster_dirty")

    def replace_all(self, members: Sequence[ClusterMember], threshold: float, now: datetime) -> None:
        """Replace the whole clusters table, built at `threshold` from every pair."""
        mark_table(self.con, "clusters")
        self.con.execute("DELETE FROM clusters")
        self._insert(members)
        self.con.execute("DELETE FROM cluster_dirty")
        self.con.execute("DELETE FROM cluster_state")
        self.con.execute("INSERT INTO cluster_state VALUES (?, ?)", [threshold, now])

    def _insert(self, members: Sequence[ClusterMember]) -> None:
        if not members:
            return
        names = select_list(ClusterMember)
        with registered(self.con, "new_clusters", arrow_table(ClusterMember, members)) as table:
            self.con.execute(f"INSERT INTO clusters ({names}) SELECT {names} FROM {table}")

    def totals(self) -> tuple[int, int]:
        """(clusters, clustered documents) in the table now."""
        rows = self.con.execute("SELECT count(DISTINCT cluster_id), count(*) FROM clusters")
        clusters, docs = rows.fetchall()[0]
        return int(clusters), int(docs)
