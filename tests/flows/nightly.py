"""What a database built night by night must share with one fresh run over the final pages.

Every derived structure is compared, not only the views: a stale band key or passage
index entry is harmless until a later edit makes it a candidate (issue 13), so the
indexes themselves must equal what a fresh run builds. Canonical documents are left
out: the documented rule picks the earliest first seen, which a fresh run cannot know.
"""

from pathlib import Path

import duckdb

STATE = {
    "documents": "SELECT doc_id, kind, url, content_sha256, title, text FROM documents",
    "passages": "SELECT doc_id, ordinal, text, norm_hash, counts_for_repeats FROM passages",
    "doc_signatures": (
        "SELECT doc_id, content_sha256, norm_content_hash, shingles, params_fingerprint, "
        "signature FROM doc_signatures"
    ),
    "doc_bands": "SELECT doc_id, band, band_key FROM doc_bands",
    "duplicate_pairs": "SELECT doc_a, doc_b, round(jaccard, 12), exact FROM duplicate_pairs",
    "near_duplicates": (
        "SELECT doc_a, doc_b, url_a, url_b, round(jaccard, 12), exact FROM near_duplicates"
    ),
    "cluster_members": "SELECT list(doc_id ORDER BY doc_id) FROM clusters GROUP BY cluster_id",
    "corpus": "SELECT count(*), count(cluster_id) FROM corpus",
    "repeated_passages": (
        "SELECT passage_hash, text, occurrences, documents, sites, is_boilerplate "
        "FROM repeated_passages"
    ),
    "near_repeated_passages": (
        "SELECT hash_a, hash_b, round(jaccard, 12), text_a, text_b FROM near_repeated_passages"
    ),
    "passage_index": "SELECT passage_hash, shingles FROM passage_index",
    "passage_bands": "SELECT passage_hash, band, band_key FROM passage_bands",
    "passage_pairs": "SELECT hash_a, hash_b, round(jaccard, 12) FROM passage_pairs",
    # The history differs (issue 16); what each URL leads to now does not. (Its response
    # may: a body whose text and title are unchanged stores nothing new.)
    "current_versions": (
        "SELECT url, content_sha256, title, text, page_url, doc_id FROM page_versions "
        "WHERE is_current"
    ),
}


def state(db: str | Path | duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    """Every compared table and view of the database (a path or a connection), rows sorted."""
    if isinstance(db, duckdb.DuckDBPyConnection):
        return {name: sorted(db.execute(sql).fetchall(), key=repr) for name, sql in STATE.items()}
    with duckdb.connect(str(db), read_only=True) as con:
        return state(con)


def differences(
    nightly: dict[str, list[tuple[object, ...]]], fresh: dict[str, list[tuple[object, ...]]]
) -> dict[str, tuple[list[tuple[object, ...]], list[tuple[object, ...]]]]:
    """For each table that differs: (rows only the nightly one has, rows only the fresh one has)."""
    out = {}
    for name in STATE:
        a, b = set(map(repr, nightly[name])), set(map(repr, fresh[name]))
        if a != b or len(nightly[name]) != len(fresh[name]):
            only_a = [r for r in nightly[name] if repr(r) not in b]
            only_b = [r for r in fresh[name] if repr(r) not in a]
            out[name] = (only_a[:5], only_b[:5])
    return out
