"""The dedup index in DuckDB: signatures, band keys, verified pairs, clusters, passage repeats.

Band keys are stored one row per (document, band) and candidates are found by joining
the bands of this run's new or changed documents against all stored bands, so the
index survives between runs and processes and old documents are never re-signed.
Bulk rows go in through Arrow tables (zero-copy from numpy), not executemany.
"""

import contextlib
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from dedup.verify import DuplicatePair
from storage.changes import mark, mark_values
from storage.cluster_store import cluster_mates, mark_changed, mark_pairs
from storage.columns import from_row, named_rows, select_list
from storage.tx import transaction


@dataclass(frozen=True, slots=True)
class SignatureBatch:
    """Signatures and band keys of a batch of documents, ready to store."""

    doc_ids: Sequence[int]
    content_sha256: Sequence[str]
    norm_content_hashes: Sequence[int]
    shingle_counts: Sequence[int]
    signatures: npt.NDArray[np.unsignedinteger]  # (n, num_perm)
    band_keys: npt.NDArray[np.uint64]  # (n, bands)
    scheme: str
    seed: int
    shingle_size: int
    params_fingerprint: int


@dataclass(frozen=True, slots=True)
class PairRow:
    """A verified pair to store."""

    doc_a: int
    doc_b: int
    jaccard: float
    exact: bool


@dataclass(frozen=True, slots=True)
class DocFacts:
    """What the canonical rule needs about a stored document."""

    doc_id: int
    first_seen: datetime
    text_chars: int
    url: str


class DedupStore:
    """Reads and writes of the dedup tables over the run's read-write connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    @contextlib.contextmanager
    def _registered(self, name: str, table: pa.Table) -> Iterator[None]:
        self.con.register(name, table)
        try:
            yield
        finally:
            self.con.unregister(name)

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """Commit everything written inside, or nothing."""
        return transaction(self.con)

    def _ids_table(self, ids: Sequence[int]) -> pa.Table:
        return pa.table({"id": pa.array(list(ids), type=pa.int64())})

    def set_settings(self, threshold: float, boilerplate_min_docs: int) -> None:
        """Record the settings the views apply."""
        self.con.executemany(
            "INSERT OR REPLACE INTO dedup_settings VALUES (?, ?)",
            [["threshold", threshold], ["boilerplate_min_docs", float(boilerplate_min_docs)]],
        )

    # documents ----------------------------------------------------------------------

    def documents_to_index(self, fingerprint: int) -> list[int]:
        """Ids of documents with no signature, a stale one, or one made with other parameters."""
        rows = self.con.execute(
            """
            SELECT d.doc_id
            FROM documents d LEFT JOIN doc_signatures s ON s.doc_id = d.doc_id
            WHERE s.doc_id IS NULL OR s.content_sha256 <> d.content_sha256
               OR s.params_fingerprint <> ?
            ORDER BY d.doc_id
            """,
            [fingerprint],
        ).fetchall()
        return [int(r[0]) for r in rows]

    def rows_to_sign(self, doc_ids: Sequence[int]) -> list[tuple[int, str, str]]:
        """(doc_id, content_sha256, text) of the documents in `doc_ids`, by id."""
        with self._registered("probe_ids", self._ids_table(doc_ids)):
            rows = self.con.execute(
                "SELECT d.doc_id, d.content_sha256, d.text FROM documents d "
                "JOIN probe_ids p ON p.id = d.doc_id ORDER BY d.doc_id"
            ).fetchall()
        return [(int(r[0]), str(r[1]), str(r[2] or "")) for r in rows]

    def save_signatures(self, batch: SignatureBatch, now: datetime) -> None:
        """Replace the signatures, band keys and pairs of the batch's documents."""
        n, num_perm = batch.signatures.shape
        bands = batch.band_keys.shape[1]
        ids = pa.array(list(batch.doc_ids), type=pa.int64())
        flat = pa.array(batch.signatures.astype(np.uint64).ravel(), type=pa.uint64())
        sigs = pa.table({
            "doc_id": ids,
            "content_sha256": pa.array(list(batch.content_sha256), type=pa.string()),
            "norm_content_hash": pa.array(list(batch.norm_content_hashes), type=pa.int64()),
            "shingles": pa.array(list(batch.shingle_counts), type=pa.int32()),
            "signature": pa.ListArray.from_arrays(
                pa.array(np.arange(0, n * num_perm + 1, num_perm, dtype=np.int32)), flat
            ),
        })
        band_rows = pa.table({
            "doc_id": pa.array(np.repeat(np.asarray(batch.doc_ids, dtype=np.int64), bands)),
            "band": pa.array(np.tile(np.arange(bands, dtype=np.int16), n)),
            "band_key": pa.array(batch.band_keys.astype(np.uint64).ravel(), type=pa.uint64()),
        })
        with self._registered("new_sigs", sigs), self._registered("new_bands", band_rows):
            mark_changed(self.con, "(SELECT doc_id FROM new_sigs)")
            mark(self.con, "docs", "SELECT doc_id FROM new_sigs")
            self.con.execute(
                "DELETE FROM doc_bands WHERE doc_id IN (SELECT doc_id FROM new_sigs)"
            )
            self.con.execute(
                "DELETE FROM duplicate_pairs WHERE doc_a IN (SELECT doc_id FROM new_sigs) "
                "OR doc_b IN (SELECT doc_id FROM new_sigs)"
            )
            self.con.execute(
                "DELETE FROM doc_signatures WHERE doc_id IN (SELECT doc_id FROM new_sigs)"
            )
            self.con.execute(
                """
                INSERT INTO doc_signatures
                SELECT doc_id, content_sha256, norm_content_hash, shingles, ?, ?, ?, ?, ?,
                       signature, ?
                FROM new_sigs
                """,
                [batch.scheme, batch.seed, num_perm, batch.shingle_size,
                 batch.params_fingerprint, now],
            )
            self.con.execute("INSERT INTO doc_bands SELECT * FROM new_bands")

    def forget_documents(self, doc_ids: Sequence[int]) -> None:
        """Drop the signatures, band keys, pairs and clusters derived from these documents' text.

        Called in the transaction that replaces their text: until they are signed again
        they have no signature (so `documents_to_index` lists them) and nothing matches
        against their old bands. Every cluster that held one of them goes whole: its other
        members' pairs still stand and the next cluster update joins them again, while a
        cluster kept around an edited member could name a canonical document that no
        longer belongs to it.
        """
        if not doc_ids:
            return
        with self._registered("edited_ids", self._ids_table(doc_ids)):
            edited = "(SELECT id FROM edited_ids)"
            mark_changed(self.con, edited, with_cluster_mates=True)
            # Their clusters go whole: every member's clusters row changes.
            mark(self.con, "docs", f"{edited} UNION {cluster_mates(edited)}")
            self.con.execute("DELETE FROM doc_bands WHERE doc_id IN (SELECT id FROM edited_ids)")
            self.con.execute(
                "DELETE FROM duplicate_pairs WHERE doc_a IN (SELECT id FROM edited_ids) "
                "OR doc_b IN (SELECT id FROM edited_ids)"
            )
            self.con.execute(
                "DELETE FROM doc_signatures WHERE doc_id IN (SELECT id FROM edited_ids)"
            )
            self.con.execute(
                "DELETE FROM clusters WHERE cluster_id IN "
                "(SELECT cluster_id FROM clusters WHERE doc_id IN (SELECT id FROM edited_ids))"
            )

    def passage_hashes_of(self, doc_ids: Sequence[int]) -> list[int]:
        """The distinct normalized passage hashes the documents in `doc_ids` hold now."""
        if not doc_ids:
            return []
        with self._registered("probe_ids", self._ids_table(doc_ids)):
            rows = self.con.execute(
                "SELECT DISTINCT p.norm_hash FROM passages p "
                "JOIN probe_ids i ON i.id = p.doc_id WHERE p.counts_for_repeats"
            ).fetchall()
        return [int(h) for (h,) in rows]

    def forget_vanished_passages(self, hashes: Sequence[int]) -> None:
        """Drop the near-repeat index and pairs of those `hashes` no passage holds any more.

        The passage index is keyed by normalized text, shared by every document holding it:
        a hash stays while one countable passage anywhere still has it. One left behind would
        be a candidate whose text no verification can read (issue 13), and if the text came
        back later it would never be indexed again, missing pairs a fresh run finds.
        """
        if not hashes:
            return
        with self._registered("old_hashes", self._ids_table(hashes)):
            self.con.execute(
                """
                CREATE OR REPLACE TEMP TABLE vanished_hashes AS
                SELECT o.id FROM old_hashes o
                WHERE NOT EXISTS (SELECT 1 FROM passages p
                                  WHERE p.norm_hash = o.id AND p.counts_for_repeats)
                """
            )
        try:
            vanished = "(SELECT id FROM vanished_hashes)"
            mark(self.con, "passages", "SELECT id FROM vanished_hashes")
            self.con.execute(f"DELETE FROM passage_bands WHERE passage_hash IN {vanished}")
            self.con.execute(f"DELETE FROM passage_index WHERE passage_hash IN {vanished}")
            self.con.execute(
                f"DELETE FROM passage_pairs WHERE hash_a IN {vanished} OR hash_b IN {vanished}"
            )
        finally:
            self.con.execute("DROP TABLE vanished_hashes")

    def candidate_pairs(self, doc_ids: Sequence[int]) -> list[tuple[int, int]]:
        """Pairs (a < b) sharing a band key, at least one of them in `doc_ids`."""
        with self._registered("probe_ids", self._ids_table(doc_ids)):
            rows = self.con.execute(
                """
                SELECT DISTINCT least(n.doc_id, o.doc_id), greatest(n.doc_id, o.doc_id)
                FROM doc_bands n
                JOIN probe_ids p ON p.id = n.doc_id
                JOIN doc_bands o ON o.band = n.band AND o.band_key = n.band_key
                WHERE o.doc_id <> n.doc_id AND n.band_key <> 0
                """
            ).fetchall()
        return [(int(a), int(b)) for a, b in rows]

    def exact_pairs(self, doc_ids: Sequence[int]) -> list[tuple[int, int]]:
        """Pairs (a < b) with equal normalized content, at least one of them in `doc_ids`."""
        with self._registered("probe_ids", self._ids_table(doc_ids)):
            rows = self.con.execute(
                """
                SELECT DISTINCT least(n.doc_id, o.doc_id), greatest(n.doc_id, o.doc_id)
                FROM doc_signatures n
                JOIN probe_ids p ON p.id = n.doc_id
                JOIN doc_signatures o ON o.norm_content_hash = n.norm_content_hash
                WHERE o.doc_id <> n.doc_id AND n.shingles > 0
                """
            ).fetchall()
        return [(int(a), int(b)) for a, b in rows]

    def texts(self, doc_ids: Sequence[int]) -> dict[int, str]:
        """The text of each document in `doc_ids`."""
        with self._registered("probe_ids", self._ids_table(doc_ids)):
            rows = self.con.execute(
                "SELECT d.doc_id, d.text FROM documents d JOIN probe_ids p ON p.id = d.doc_id"
            ).fetchall()
        return {int(i): str(t or "") for i, t in rows}

    def save_pairs(self, pairs: Sequence[PairRow], now: datetime) -> None:
        """Insert or update verified pairs."""
        if not pairs:
            return
        table = pa.table({
            "doc_a": pa.array([p.doc_a for p in pairs], type=pa.int64()),
            "doc_b": pa.array([p.doc_b for p in pairs], type=pa.int64()),
            "jaccard": pa.array([p.jaccard for p in pairs], type=pa.float64()),
            "exact": pa.array([p.exact for p in pairs], type=pa.bool_()),
        })
        with self._registered("new_pairs", table):
            mark_pairs(self.con, "new_pairs")
            # A pair's row is synced when either of its documents is marked (catch_up.SYNC).
            mark(self.con, "docs", "SELECT doc_a FROM new_pairs")
            self.con.execute(
                """
                INSERT OR REPLACE INTO duplicate_pairs
                SELECT doc_a, doc_b, jaccard, exact, ? FROM new_pairs
                """,
                [now],
            )

    def pairs_at(self, threshold: float) -> list[DuplicatePair]:
        """All stored pairs with Jaccard >= threshold."""
        cursor = self.con.execute(
            f"SELECT {select_list(DuplicatePair)} FROM duplicate_pairs WHERE jaccard >= ? "
            "ORDER BY doc_a, doc_b",
            [threshold],
        )
        return [from_row(DuplicatePair, row) for row in named_rows(cursor)]

    def doc_facts(self, doc_ids: Sequence[int]) -> list[DocFacts]:
        """First-seen time, length and URL of each document in `doc_ids`."""
        with self._registered("probe_ids", self._ids_table(doc_ids)):
            rows = named_rows(self.con.execute(
                f"SELECT {select_list(DocFacts, 'd')} "
                "FROM documents d JOIN probe_ids p ON p.id = d.doc_id"
            ))
        # Rows from before text_chars was stored may hold NULLs: they sort as empty.
        return [
            from_row(DocFacts, {**r, "text_chars": r["text_chars"] or 0, "url": r["url"] or ""})
            for r in rows
        ]

    # passages -----------------------------------------------------------------------

    def passages_to_index(
        self, batch: int, exclude: Collection[int] = (), doc_ids: Sequence[int] | None = None
    ) -> list[tuple[int, str]]:
        """(norm_hash, text) of up to `batch` distinct countable passages not yet indexed.

        Hashes in `exclude` (passages that failed earlier in the run) are left out. With
        `doc_ids`, only passages those documents hold (a run's batch, issue 20); the text
        is still the least of every passage with that hash, as in a whole pass.
        """
        holders = "" if doc_ids is None else (
            "AND p.norm_hash IN (SELECT q.norm_hash FROM passages q "
            "JOIN holder_ids h ON h.id = q.doc_id)"
        )
        with self._registered("excluded", self._ids_table(sorted(exclude))), \
                self._registered("holder_ids", self._ids_table(doc_ids or [])):
            rows = self.con.execute(
                f"""
                SELECT p.norm_hash, min(p.text)
                FROM passages p LEFT JOIN passage_index i ON i.passage_hash = p.norm_hash
                WHERE p.counts_for_repeats AND i.passage_hash IS NULL
                  AND p.norm_hash NOT IN (SELECT id FROM excluded) {holders}
                GROUP BY p.norm_hash ORDER BY p.norm_hash LIMIT ?
                """,
                [batch],
            ).fetchall()
        return [(int(h), str(t)) for h, t in rows]

    def save_passage_index(
        self, hashes: Sequence[int], shingle_counts: Sequence[int],
        band_keys: npt.NDArray[np.uint64], now: datetime,
    ) -> None:
        """Store indexed passages and their band keys."""
        n, bands = band_keys.shape
        index = pa.table({
            "passage_hash": pa.array(list(hashes), type=pa.int64()),
            "shingles": pa.array(list(shingle_counts), type=pa.int32()),
        })
        band_rows = pa.table({
            "passage_hash": pa.array(np.repeat(np.asarray(hashes, dtype=np.int64), bands)),
            "band": pa.array(np.tile(np.arange(bands, dtype=np.int16), n)),
            "band_key": pa.array(band_keys.astype(np.uint64).ravel(), type=pa.uint64()),
        })
        with self._registered("new_pidx", index), self._registered("new_pbands", band_rows):
            mark(self.con, "passages", "SELECT passage_hash FROM new_pidx")
            self.con.execute("INSERT INTO passage_index SELECT passage_hash, shingles, ? FROM new_pidx",
                             [now])
            self.con.execute("INSERT INTO passage_bands SELECT * FROM new_pbands")

    def passage_candidates(self, hashes: Sequence[int]) -> list[tuple[int, int]]:
        """Passage pairs (a < b) sharing a band key, at least one of them in `hashes`."""
        with self._registered("probe_ids", self._ids_table(hashes)):
            rows = self.con.execute(
                """
                SELECT DISTINCT least(n.passage_hash, o.passage_hash),
                                greatest(n.passage_hash, o.passage_hash)
                FROM passage_bands n
                JOIN probe_ids p ON p.id = n.passage_hash
                JOIN passage_bands o ON o.band = n.band AND o.band_key = n.band_key
                WHERE o.passage_hash <> n.passage_hash AND n.band_key <> 0
                """
            ).fetchall()
        return [(int(a), int(b)) for a, b in rows]

    def passage_texts(self, hashes: Sequence[int]) -> dict[int, str]:
        """One text for each passage hash in `hashes`."""
        with self._registered("probe_ids", self._ids_table(hashes)):
            rows = self.con.execute(
                "SELECT p.norm_hash, min(p.text) FROM passages p "
                "JOIN probe_ids i ON i.id = p.norm_hash GROUP BY p.norm_hash"
            ).fetchall()
        return {int(h): str(t) for h, t in rows}

    def save_passage_pairs(self, pairs: Sequence[tuple[int, int, float]], now: datetime) -> None:
        """Insert or update verified near-repeat passage pairs."""
        if not pairs:
            return
        mark_values(self.con, "passages", [a for a, _, _ in pairs])
        self.con.executemany(
            "INSERT OR REPLACE INTO passage_pairs VALUES (?, ?, ?, ?)",
            [[a, b, j, now] for a, b, j in pairs],
        )
