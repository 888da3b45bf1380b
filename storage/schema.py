"""Versioned migrations of recite's DuckDB schema; every table and column carries a COMMENT."""

import duckdb

from storage.body_files import move_bodies_out
from storage.schema_clusters import CLUSTER_TABLES
from storage.schema_parts import Migration, Table, View, quote
from storage.schema_publish import PUBLISH_TABLES
from storage.schema_quotes import PAIR_COLUMNS, QUOTE_TABLES, QUOTE_VIEWS

__all__ = ["MIGRATIONS", "Migration", "Table", "View", "migrate", "quote"]

SEEDS = Table(
    "seeds",
    "One row per seed file ever ingested, keyed by its absolute path.",
    (
        ("path", "VARCHAR PRIMARY KEY", "Absolute path of the seed file."),
        ("doc_id", "BIGINT", "documents.doc_id of the seed's own document (NULL if unreadable)."),
        ("sha256", "VARCHAR", "SHA-256 of the file's bytes when last read."),
        ("bytes", "BIGINT", "Size of the file in bytes when last read."),
        ("encoding", "VARCHAR", "Text encoding the file was decoded with."),
        ("status", "VARCHAR", "'ok' when read, 'skipped' when it could not be used."),
        ("reason", "VARCHAR", "Why the seed was skipped or truncated; NULL when read in full."),
        ("citations", "INTEGER", "Number of distinct URLs it cited when last read."),
        ("rejected_links", "INTEGER", "Links found but not fetched (javascript:, relative, ...)."),
        ("first_seen", "TIMESTAMPTZ", "When a run first read this file."),
        ("last_seen", "TIMESTAMPTZ", "When a run last read this file."),
    ),
)

CITATIONS = Table(
    "citations",
    "One row per (citing document, cited URL) edge.",
    (
        ("doc_id", "BIGINT", "documents.doc_id of the citing document (a seed)."),
        ("url", "VARCHAR", "Normalized cited URL (urls.url)."),
        ("raw_url", "VARCHAR", "The URL as written in the seed."),
        ("kind", "VARCHAR", "Where it was found: 'text', 'markdown' or 'html'."),
        ("first_seen", "TIMESTAMPTZ", "When a run first saw this citation."),
        ("last_seen", "TIMESTAMPTZ", "When a run last saw this citation."),
    ),
    "PRIMARY KEY (doc_id, url)",
)

URLS = Table(
    "urls",
    "One row per normalized URL in the frontier, with its latest fetch state and validators.",
    (
        ("url", "VARCHAR PRIMARY KEY", "Normalized URL: the frontier key."),
        ("host", "VARCHAR", "Host name of the URL."),
        ("first_seen", "TIMESTAMPTZ", "When the URL was first cited."),
        ("last_fetched_at", "TIMESTAMPTZ", "Start of the latest fetch (NULL if never fetched)."),
        ("last_outcome", "VARCHAR", "Reason code of the latest fetch ('ok', 'http_4xx', ...)."),
        ("last_status_code", "INTEGER", "HTTP status of the latest fetch's last response."),
        ("last_error", "VARCHAR", "Error text of the latest fetch, if it failed."),
        ("final_url", "VARCHAR", "URL after redirects of the latest fetch."),
        ("canonical_url", "VARCHAR", "<link rel=canonical> of the latest extracted page."),
        ("doc_id", "BIGINT", "documents.doc_id of the page this URL leads to."),
        ("etag", "VARCHAR", "ETag of the latest 200 response, sent as If-None-Match."),
        ("last_modified", "VARCHAR", "Last-Modified of the latest 200, sent as If-Modified-Since."),
        ("fetch_count", "INTEGER", "Number of runs that fetched this URL."),
    ),
)

FETCHES = Table(
    "fetches",
    "One row per fetch attempt (each retry is a row).",
    (
        ("run_id", "VARCHAR", "runs.run_id of the run that made the attempt."),
        ("url", "VARCHAR", "Normalized URL requested (urls.url)."),
        ("attempt", "INTEGER", "1 for the first try, 2 for the first retry, ..."),
        ("fetched_at", "TIMESTAMPTZ", "When the attempt started."),
        ("status_code", "INTEGER", "HTTP status of the last response (NULL if none)."),
        ("final_url", "VARCHAR", "URL of the last response after redirects."),
        ("redirect_chain", "VARCHAR[]", "URLs redirected through, in order, excluding the first."),
        ("outcome", "VARCHAR", "Reason code of this attempt ('ok', 'timeout', 'http_5xx', ...)."),
        ("error", "VARCHAR", "Error text when the attempt failed."),
        ("bytes", "BIGINT", "Body bytes received (decoded)."),
        ("elapsed_ms", "DOUBLE", "Wall time of the attempt in milliseconds."),
        ("is_final", "BOOLEAN", "True for the attempt that decided the URL's outcome in the run."),
    ),
)

# As created by migration 1; migration 30 renames body_zlib and adds body_codec (a fresh
# database goes through the same migrations, so it ends up identical to a migrated one).
RESPONSES = Table(
    "responses",
    "Raw archive: one row per URL's latest successful response, body compressed (zlib).",
    (
        ("url", "VARCHAR PRIMARY KEY", "Normalized URL requested (urls.url)."),
        ("final_url", "VARCHAR", "URL the body was served from, after redirects."),
        ("fetched_at", "TIMESTAMPTZ", "When the attempt that got the response started."),
        ("status_code", "INTEGER", "HTTP status (200)."),
        ("headers", "STRUCT(name VARCHAR, value VARCHAR)[]", "Response headers, in order."),
        ("content_type", "VARCHAR", "Media type from Content-Type."),
        ("charset", "VARCHAR", "Character encoding the body was decoded with."),
        ("body_sha256", "VARCHAR", "SHA-256 of the decoded-content body bytes."),
        ("body_bytes", "BIGINT", "Size of the body before compression."),
        ("body_zlib", "BLOB", "Body bytes (Content-Encoding removed), zlib-compressed."),
    ),
)

DOCUMENTS = Table(
    "documents",
    "One row per extracted document: a seed file or a fetched page.",
    (
        ("doc_id", "BIGINT PRIMARY KEY", "Stable id derived from the document's key (path or URL)."),
        ("kind", "VARCHAR", "'seed' for a seed file, 'page' for a fetched web page."),
        ("url", "VARCHAR", "Page URL after redirects (file:// URL for seeds)."),
        ("canonical_url", "VARCHAR", "<link rel=canonical> URL declared by the page, if any."),
        ("title", "VARCHAR", "Title from the page's metadata."),
        ("author", "VARCHAR", "Author(s) from the page's metadata."),
        ("published", "VARCHAR", "Publication date (YYYY-MM-DD) from the page's metadata."),
        ("sitename", "VARCHAR", "Site name from the page's metadata."),
        ("hostname", "VARCHAR", "Host name of the page."),
        ("language", "VARCHAR", "Language declared or detected."),
        ("description", "VARCHAR", "Description from the page's metadata."),
        ("text", "VARCHAR", "Main text, one paragraph per line."),
        ("text_chars", "INTEGER", "Length of text in characters."),
        ("content_sha256", "VARCHAR", "SHA-256 of text (UTF-8); equal text, equal hash."),
        ("extractor", "VARCHAR", "Extractor used ('trafilatura' or 'seed')."),
        ("extractor_version", "VARCHAR", "Version of the extractor."),
        ("first_seen", "TIMESTAMPTZ", "When the document was first stored."),
        ("extracted_at", "TIMESTAMPTZ", "When the text was last extracted."),
    ),
)

PASSAGES = Table(
    "passages",
    "One row per paragraph of a document, in document order.",
    (
        ("doc_id", "BIGINT", "documents.doc_id."),
        ("ordinal", "INTEGER", "Position of the paragraph in the document, from 0."),
        ("text", "VARCHAR", "Paragraph text, whitespace collapsed."),
        ("norm_hash", "BIGINT", "Hash of the normalized text: equal after normalization, equal."),
        ("counts_for_repeats", "BOOLEAN",
         "False for passages under 5 normalized words, which repeat by chance (dedup.passages)."),
    ),
    "PRIMARY KEY (doc_id, ordinal)",
)

RUNS = Table(
    "runs",
    "One row per run of the pipeline.",
    (
        ("run_id", "VARCHAR PRIMARY KEY", "Run id (the Prefect flow run id when run by Prefect)."),
        ("started_at", "TIMESTAMPTZ", "When the run started."),
        ("finished_at", "TIMESTAMPTZ", "When the run finished (NULL while running or if killed)."),
        ("status", "VARCHAR", "'running', 'completed' or 'failed'."),
        ("parameters", "JSON", "The run's parameters."),
        ("error", "VARCHAR", "Why the run failed, if it did."),
    ),
)

RUN_COUNTS = Table(
    "run_counts",
    "One row per (run, stage, reason): how many items ended that way.",
    (
        ("run_id", "VARCHAR", "runs.run_id."),
        ("stage", "VARCHAR", "Pipeline stage: 'seeds', 'citations', 'fetch', 'extract', ..."),
        ("reason", "VARCHAR", "Outcome or reason code within the stage."),
        ("count", "BIGINT", "Number of items."),
    ),
    "PRIMARY KEY (run_id, stage, reason)",
)

FETCH_FAILURES = View(
    "fetch_failures",
    "One row per URL whose latest fetch failed: the reason, and in how many runs it failed.",
    """
    SELECT u.url, u.host, u.last_outcome AS outcome, u.last_status_code AS status_code,
           u.last_error AS error, u.last_fetched_at AS fetched_at,
           (SELECT count(*) FROM fetches f
             WHERE f.url = u.url AND f.is_final
               AND f.outcome NOT IN ('ok', 'not_modified')) AS failures
    FROM urls u
    WHERE u.last_outcome IS NOT NULL AND u.last_outcome NOT IN ('ok', 'not_modified')
    """,
    (
        ("url", "Normalized URL."),
        ("host", "Host name of the URL."),
        ("outcome", "Reason code of the latest fetch."),
        ("status_code", "HTTP status of the latest fetch, if a response arrived."),
        ("error", "Error text of the latest fetch."),
        ("fetched_at", "When the latest fetch started."),
        ("failures", "Number of runs in which fetching this URL failed."),
    ),
)

CITATIONS_GRAPH = View(
    "citations_graph",
    "One row per (seed, cited URL) edge, with the URL's latest outcome and the document it led to.",
    """
    SELECT s.path AS seed_path, c.doc_id AS seed_doc_id, c.url, c.raw_url,
           u.last_outcome AS outcome, u.doc_id AS cited_doc_id, d.title AS cited_title,
           d.sitename AS cited_site
    FROM citations c
    JOIN seeds s ON s.doc_id = c.doc_id
    LEFT JOIN urls u ON u.url = c.url
    LEFT JOIN documents d ON d.doc_id = u.doc_id
    """,
    (
        ("seed_path", "Path of the citing seed file."),
        ("seed_doc_id", "documents.doc_id of the citing seed."),
        ("url", "Normalized cited URL."),
        ("raw_url", "The URL as written in the seed."),
        ("outcome", "Reason code of the URL's latest fetch (NULL if never fetched)."),
        ("cited_doc_id", "documents.doc_id of the page the URL leads to (NULL if none)."),
        ("cited_title", "Title of that page."),
        ("cited_site", "Site name of that page."),
    ),
)

DOC_SIGNATURES = Table(
    "doc_signatures",
    "One row per document indexed for near-duplicate search: its MinHash signature.",
    (
        ("doc_id", "BIGINT PRIMARY KEY", "documents.doc_id."),
        ("content_sha256", "VARCHAR", "documents.content_sha256 the signature was computed from."),
        ("norm_content_hash", "BIGINT", "Hash of the normalized text: equal for exact duplicates."),
        ("shingles", "INTEGER", "Number of distinct word 5-gram shingles (0: never matches)."),
        ("scheme", "VARCHAR", "datasketch permutation scheme of the signature (e.g. affine32)."),
        ("seed", "INTEGER", "datasketch seed of the permutations."),
        ("num_perm", "INTEGER", "Number of permutations (signature length)."),
        ("shingle_size", "INTEGER", "Words per shingle."),
        ("params_fingerprint", "UBIGINT", "Fingerprint of all MinHash/LSH parameters used."),
        ("signature", "UBIGINT[]", "MinHash hash values (datasketch MinHash.hashvalues)."),
        ("computed_at", "TIMESTAMPTZ", "When the signature was computed."),
    ),
)

DOC_BANDS = Table(
    "doc_bands",
    "One row per (document, LSH band): the band key; documents sharing a key are candidates.",
    (
        ("doc_id", "BIGINT", "documents.doc_id."),
        ("band", "SMALLINT", "Band number, 0-based."),
        ("band_key", "UBIGINT", "64-bit hash of the band's rows, seeded by band and parameters."),
    ),
)

DUPLICATE_PAIRS = Table(
    "duplicate_pairs",
    "One row per verified pair of similar documents (doc_a < doc_b), Jaccard >= 0.5 stored.",
    (
        ("doc_a", "BIGINT", "documents.doc_id of the first document (the smaller id)."),
        ("doc_b", "BIGINT", "documents.doc_id of the second document."),
        ("jaccard", "DOUBLE", "Exact Jaccard similarity of the two word 5-gram shingle sets."),
        ("exact", "BOOLEAN", "True when the normalized texts are identical."),
        ("found_at", "TIMESTAMPTZ", "When the pair was verified."),
    ),
    "PRIMARY KEY (doc_a, doc_b)",
)

CLUSTERS = Table(
    "clusters",
    "One row per document in a near-duplicate cluster (documents joined by verified pairs).",
    (
        ("doc_id", "BIGINT PRIMARY KEY", "documents.doc_id."),
        ("cluster_id", "BIGINT", "Cluster id: the doc_id of the cluster's canonical document."),
        ("canonical_doc_id", "BIGINT", "The canonical document: earliest seen, longest, then URL."),
        ("is_canonical", "BOOLEAN", "True for the canonical document itself."),
    ),
)

PASSAGE_INDEX = Table(
    "passage_index",
    "One row per distinct normalized passage indexed for near-repeat search.",
    (
        ("passage_hash", "BIGINT PRIMARY KEY", "passages.norm_hash."),
        ("shingles", "INTEGER", "Number of distinct word 3-gram shingles."),
        ("computed_at", "TIMESTAMPTZ", "When it was indexed."),
    ),
)

PASSAGE_BANDS = Table(
    "passage_bands",
    "One row per (distinct passage, LSH band): the band key used to find near repeats.",
    (
        ("passage_hash", "BIGINT", "passages.norm_hash."),
        ("band", "SMALLINT", "Band number, 0-based."),
        ("band_key", "UBIGINT", "64-bit hash of the band's rows."),
    ),
)

PASSAGE_PAIRS = Table(
    "passage_pairs",
    "One row per verified pair of distinct passages with 3-gram Jaccard >= 0.8 (near repeats).",
    (
        ("hash_a", "BIGINT", "norm_hash of the first passage (the smaller hash)."),
        ("hash_b", "BIGINT", "norm_hash of the second passage."),
        ("jaccard", "DOUBLE", "Exact Jaccard similarity of their word 3-gram shingle sets."),
        ("found_at", "TIMESTAMPTZ", "When the pair was verified."),
    ),
    "PRIMARY KEY (hash_a, hash_b)",
)

DEDUP_SETTINGS = Table(
    "dedup_settings",
    "One row per dedup setting in force for the views (set by the latest run).",
    (
        ("name", "VARCHAR PRIMARY KEY", "'threshold' or 'boilerplate_min_docs'."),
        ("value", "DOUBLE", "The setting's value."),
    ),
)

NEAR_DUPLICATES = View(
    "near_duplicates",
    "One row per verified near-duplicate pair of documents at or above the run's threshold.",
    """
    SELECT p.doc_a, p.doc_b, da.url AS url_a, db.url AS url_b, p.jaccard, p.exact
    FROM duplicate_pairs p
    JOIN documents da ON da.doc_id = p.doc_a
    JOIN documents db ON db.doc_id = p.doc_b
    WHERE p.jaccard >= (SELECT value FROM dedup_settings WHERE name = 'threshold')
    """,
    PAIR_COLUMNS,
)

DUPLICATE_CLUSTERS = View(
    "duplicate_clusters",
    "One row per document in a near-duplicate cluster, with the cluster's canonical document.",
    """
    SELECT c.doc_id, c.cluster_id, c.canonical_doc_id, c.is_canonical, d.url,
           k.url AS canonical_url
    FROM clusters c
    JOIN documents d ON d.doc_id = c.doc_id
    JOIN documents k ON k.doc_id = c.canonical_doc_id
    """,
    (
        ("doc_id", "documents.doc_id."),
        ("cluster_id", "Cluster id (the canonical document's doc_id)."),
        ("canonical_doc_id", "The cluster's canonical document: earliest seen, longest, URL."),
        ("is_canonical", "True for the canonical document itself."),
        ("url", "URL of the document."),
        ("canonical_url", "URL of the canonical document."),
    ),
)

CORPUS = View(
    "corpus",
    "The deduplicated corpus: one row per cluster's canonical document and per unclustered one.",
    """
    SELECT d.*, c.cluster_id
    FROM documents d
    LEFT JOIN clusters c ON c.doc_id = d.doc_id
    WHERE c.doc_id IS NULL OR c.is_canonical
    """,
    (
        *((name, text) for name, _, text in DOCUMENTS.columns),
        ("cluster_id", "Cluster id when the document stands for a cluster, else NULL."),
    ),
)

REPEATED_PASSAGES = View(
    "repeated_passages",
    "One row per normalized passage occurring more than once (in one or several documents).",
    """
    WITH site_docs AS (
        SELECT p.norm_hash, coalesce(d.hostname, d.sitename, d.kind) AS site,
               count(DISTINCT p.doc_id) AS docs
        FROM passages p JOIN documents d ON d.doc_id = p.doc_id
        GROUP BY ALL
    ),
    boilerplate AS (
        SELECT DISTINCT norm_hash FROM site_docs
        WHERE docs >= (SELECT value FROM dedup_settings WHERE name = 'boilerplate_min_docs')
    )
    SELECT p.norm_hash AS passage_hash, min(p.text) AS text, count(*) AS occurrences,
           count(DISTINCT p.doc_id) AS documents,
           count(DISTINCT coalesce(d.hostname, d.sitename, d.kind)) AS sites,
           bool_or(b.norm_hash IS NOT NULL) AS is_boilerplate
    FROM passages p
    JOIN documents d ON d.doc_id = p.doc_id
    LEFT JOIN boilerplate b ON b.norm_hash = p.norm_hash
    WHERE p.counts_for_repeats OR b.norm_hash IS NOT NULL
    GROUP BY p.norm_hash
    HAVING count(*) > 1
    """,
    (
        ("passage_hash", "passages.norm_hash shared by the occurrences."),
        ("text", "One occurrence's text (the smallest, for a stable choice)."),
        ("occurrences", "Number of occurrences, counting repeats within one document."),
        ("documents", "Number of distinct documents it occurs in."),
        ("sites", "Number of distinct sites (host name; 'seed' for seed files) it occurs on."),
        ("is_boilerplate", "True when it occurs in at least K documents of one site."),
    ),
)

NEAR_REPEATED_PASSAGES = View(
    "near_repeated_passages",
    "One row per pair of distinct passages that are near repeats (small edits), with texts.",
    """
    SELECT pp.hash_a, pp.hash_b, pp.jaccard,
           (SELECT min(text) FROM passages WHERE norm_hash = pp.hash_a) AS text_a,
           (SELECT min(text) FROM passages WHERE norm_hash = pp.hash_b) AS text_b
    FROM passage_pairs pp
    """,
    (
        ("hash_a", "norm_hash of the first passage."),
        ("hash_b", "norm_hash of the second passage."),
        ("jaccard", "Exact Jaccard similarity of their word 3-gram shingle sets."),
        ("text_a", "Text of the first passage."),
        ("text_b", "Text of the second passage."),
    ),
)

# Killed runs are marked 'interrupted' by the next run (Store.interrupt_stale_runs).
RUNS_COMMENTS = (
    "COMMENT ON COLUMN runs.status IS " + quote(
        "'running', 'completed', 'failed', or 'interrupted' (killed; marked by the next run)."
    ),
    "COMMENT ON COLUMN runs.finished_at IS " + quote(
        "When the run finished; for an interrupted run, when the next run began (NULL while "
        "running)."
    ),
)

RUN_SUMMARY = View(
    "run_summary",
    "One row per run: its status, duration and headline counts by stage and reason.",
    """
    WITH fetched AS (
        SELECT run_id, count(*) AS urls_fetched,
               count(*) FILTER (WHERE outcome IN ('ok', 'not_modified')) AS fetched_ok,
               count(*) FILTER (WHERE outcome NOT IN ('ok', 'not_modified')) AS fetch_failed
        FROM fetches WHERE is_final GROUP BY run_id
    ),
    problems AS (
        SELECT run_id, string_agg(stage || ':' || reason || '=' || n, ', '
                                  ORDER BY stage, n DESC, reason) AS problems
        FROM (
            SELECT run_id, 'fetch' AS stage, outcome AS reason, count(*) AS n
            FROM fetches WHERE is_final AND outcome NOT IN ('ok', 'not_modified')
            GROUP BY ALL
            UNION ALL
            SELECT run_id, stage, reason, count FROM run_counts
            WHERE stage = 'extract' AND reason <> 'ok'
        )
        GROUP BY run_id
    ),
    counted AS (
        SELECT run_id,
               sum(count) FILTER (WHERE stage = 'seeds')::BIGINT AS seeds,
               sum(count) FILTER (WHERE stage = 'citations' AND reason = 'found')::BIGINT
                   AS citations,
               sum(count) FILTER (WHERE stage = 'documents'
                                  AND reason IN ('seed_changed', 'page_changed'))::BIGINT
                   AS documents_changed,
               sum(count) FILTER (WHERE stage = 'dedup' AND reason = 'clusters')::BIGINT
                   AS clusters,
               string_agg(stage || ':' || reason || '=' || count, ', ' ORDER BY stage, reason)
                   AS counts
        FROM run_counts GROUP BY run_id
    )
    SELECT r.run_id, r.status, r.started_at, r.finished_at,
           CASE WHEN r.status IN ('completed', 'failed')
                THEN date_diff('millisecond', r.started_at, r.finished_at) / 1000.0 END
               AS seconds,
           coalesce(c.seeds, 0) AS seeds, coalesce(c.citations, 0) AS citations,
           coalesce(f.urls_fetched, 0) AS urls_fetched, coalesce(f.fetched_ok, 0) AS fetched_ok,
           coalesce(f.fetch_failed, 0) AS fetch_failed,
           coalesce(c.documents_changed, 0) AS documents_changed,
           coalesce(c.clusters, 0) AS clusters, p.problems, c.counts, r.error
    FROM runs r
    LEFT JOIN counted c USING (run_id)
    LEFT JOIN fetched f USING (run_id)
    LEFT JOIN problems p USING (run_id)
    """,
    (
        ("run_id", "runs.run_id."),
        ("status", "'running', 'completed', 'failed', or 'interrupted' (killed before it ended)."),
        ("started_at", "When the run started."),
        ("finished_at", "When the run finished; for an interrupted one, when the next run began."),
        ("seconds", "Duration of a completed or failed run, in seconds (else NULL)."),
        ("seeds", "Seed files read, whatever their outcome."),
        ("citations", "Cited URLs found in the seeds."),
        ("urls_fetched", "URLs fetched (each URL once, whatever its retries)."),
        ("fetched_ok", "URLs whose fetch ended 'ok' or 'not_modified'."),
        ("fetch_failed", "URLs whose fetch ended with any other reason (see fetch_failures)."),
        ("documents_changed", "Seed and page documents that were new or whose text changed."),
        ("clusters", "Near-duplicate clusters after the run."),
        ("problems", "Failed fetches and extractions by reason, e.g. 'fetch:http_4xx=3'."),
        ("counts", "Every run_counts row of the run, as 'stage:reason=count'."),
        ("error", "Why the run failed, if it did."),
    ),
)

# Rows archived before migration 30 are all zlib: the DEFAULT fills body_codec for them.
# Dropping it afterwards (and NOT NULL) makes a writer that forgets the codec fail rather
# than label a zstd body as zlib.
ARCHIVE_CODEC_STATEMENTS = (
    "ALTER TABLE responses RENAME COLUMN body_zlib TO body_compressed",
    "ALTER TABLE responses ADD COLUMN body_codec VARCHAR DEFAULT 'zlib'",
    "ALTER TABLE responses ALTER COLUMN body_codec DROP DEFAULT",
    "ALTER TABLE responses ALTER COLUMN body_codec SET NOT NULL",
    "COMMENT ON TABLE responses IS " + quote(
        "Raw archive: one row per URL's latest successful response, body compressed "
        "(codec in body_codec)."
    ),
    "COMMENT ON COLUMN responses.body_bytes IS " + quote(
        "Size of the body before compression (zstd needs it to decompress)."
    ),
    "COMMENT ON COLUMN responses.body_compressed IS " + quote(
        "Body bytes (Content-Encoding removed), compressed with body_codec."
    ),
    "COMMENT ON COLUMN responses.body_codec IS " + quote(
        "Compression of body_compressed: 'zstd' (level 1), or 'zlib' for rows archived "
        "before schema version 30."
    ),
)

STEP_FAILURES = Table(
    "step_failures",
    "One row per item a dedup step could not process in a run (the run went on without it).",
    (
        ("run_id", "VARCHAR", "runs.run_id of the run in which the step failed."),
        ("stage", "VARCHAR",
         "'dedup' (signing and verifying a document), 'passages' (indexing a passage), "
         "'clusters' (rebuilding the clusters) or 'quotes' (the quote step; the next run "
         "redoes what it left)."),
        ("item", "BIGINT",
         "documents.doc_id for 'dedup', passages.norm_hash for 'passages', NULL for "
         "'clusters' and 'quotes'."),
        ("error", "VARCHAR", "The error, as 'Type: message'."),
        ("failed_at", "TIMESTAMPTZ", "When it failed. The next run tries the item again."),
    ),
)

def _status_comment(statuses: str) -> str:
    """COMMENT ON runs.status naming the statuses a migration knows."""
    return "COMMENT ON COLUMN runs.status IS " + quote(statuses)


def _run_summary(finished: tuple[str, ...], comments: dict[str, str]) -> View:
    """run_summary counting dedup step errors among its problems, with `seconds` for the
    runs that ended in `finished`, and `comments` in place of those of the same columns."""
    listed = ", ".join(quote(status) for status in finished)
    return View(
        RUN_SUMMARY.name,
        RUN_SUMMARY.comment,
        RUN_SUMMARY.select.replace(
            "WHERE stage = 'extract' AND reason <> 'ok'",
            "WHERE (stage = 'extract' AND reason <> 'ok') OR stage = 'errors'",
        ).replace("WHEN r.status IN ('completed', 'failed')", f"WHEN r.status IN ({listed})"),
        tuple((name, comments.get(name, text)) for name, text in RUN_SUMMARY.columns),
    )


# A run whose dedup steps failed on some items publishes the rest (issue 13).
STEP_FAILURE_STATEMENTS = (
    _status_comment(
        "'running', 'completed', 'completed_with_errors' (published; some items failed a "
        "dedup step, see step_failures), 'failed', or 'interrupted' (killed; marked by the "
        "next run)."
    ),
)

_PROBLEMS_COMMENT = (
    "Failed fetches, extractions and dedup steps by reason, e.g. 'fetch:http_4xx=3', "
    "'errors:passages=1'."
)

RUN_SUMMARY_WITH_ERRORS = _run_summary(
    ("completed", "completed_with_errors", "failed"),
    {
        "status": "'running', 'completed', 'completed_with_errors', 'failed', or "
        "'interrupted' (killed before it ended).",
        "seconds": "Duration of a finished run (completed, with errors, or failed), in "
        "seconds (else NULL).",
        "problems": _PROBLEMS_COMMENT,
    },
)


ARCHIVE_FILES = Table(
    "archive_files",
    "One row per Parquet file of raw bodies in the archive folder beside the database.",
    (
        ("file", "VARCHAR PRIMARY KEY",
         "File name inside `<db>.archive/` (e.g. data/recite.duckdb.archive/bodies-...parquet)."),
        ("run_id", "VARCHAR", "runs.run_id of the run that wrote it (NULL: moved by migration 50)."),
        ("responses", "BIGINT", "Bodies in the file."),
        ("bytes", "BIGINT", "Size of the file in bytes."),
        ("written_at", "TIMESTAMPTZ", "When it was written. Files are never changed or removed."),
    ),
)

# Bodies leave the database for immutable Parquet files, so that publishing copies only
# the database (issue 14); storage.body_files.move_bodies_out moves existing bodies to one
# file and drops responses.body_compressed.
ARCHIVE_FILE_STATEMENTS = (
    "ALTER TABLE responses ADD COLUMN archive_file VARCHAR",
    "COMMENT ON TABLE responses IS " + quote(
        "Raw archive: one row per URL's latest successful response, its body in the Parquet "
        "file archive_file of the folder <db>.archive/ beside the database."
    ),
    "COMMENT ON COLUMN responses.archive_file IS " + quote(
        "archive_files.file holding the body: read_parquet('<db>.archive/' || archive_file), "
        "row with this url and body_sha256."
    ),
    "COMMENT ON COLUMN responses.body_codec IS " + quote(
        "Compression of the body in the archive file: 'zstd' (level 1), or 'zlib' for "
        "bodies archived before schema version 30."
    ),
)

# Runs stopped by --timeout-hours (issue 17).
TIMED_OUT_STATEMENTS = (
    _status_comment(
        "'running', 'completed', 'completed_with_errors' (published; some items failed a "
        "dedup step, see step_failures), 'failed', 'timed_out' (stopped by --timeout-hours; "
        "the next run resumes after it), or 'interrupted' (killed; marked by the next run)."
    ),
)

RUN_SUMMARY_WITH_TIMEOUTS = _run_summary(
    ("completed", "completed_with_errors", "failed", "timed_out"),
    {
        "status": "'running', 'completed', 'completed_with_errors', 'failed', "
        "'timed_out', or 'interrupted' (killed before it ended).",
        "seconds": "Duration of a finished run (completed, with errors, failed or timed "
        "out), in seconds (else NULL).",
        "problems": _PROBLEMS_COMMENT,
    },
)

# Pages change (issue 16): every distinct version of a cited URL is kept, with its text
# (once per distinct text), its metadata and its raw response; each change is logged with
# a diff; URLs that stop answering are tracked, and dead ones recovered from web archives.
_VERSION_METADATA = (
    "title", "author", "published", "sitename", "hostname", "language", "description",
    "canonical_url",
)

VERSIONS = Table(
    "versions",
    "One row per distinct version of a cited URL: its metadata and the raw response that "
    "first showed it (its text is in version_texts).",
    (
        ("url", "VARCHAR", "Normalized cited URL (urls.url)."),
        ("version", "INTEGER", "1, 2, ... in order of first appearance; a page that returns "
         "to an earlier text and title returns to that version."),
        ("doc_id", "BIGINT", "documents.doc_id of the page it was served as (the URL after "
         "redirects)."),
        ("page_url", "VARCHAR", "Normalized URL the version was served from, after redirects."),
        ("content_sha256", "VARCHAR", "SHA-256 of the text (version_texts.content_sha256)."),
        ("source", "VARCHAR", "'fetch' (fetched from the site) or 'memento' (from a web archive)."),
        ("first_seen", "TIMESTAMPTZ", "When a fetch first got this version."),
        ("last_seen", "TIMESTAMPTZ", "When a fetch (or a 304, or an identical body) last got it."),
        ("extracted_at", "TIMESTAMPTZ", "When its text was extracted."),
        ("extractor_version", "VARCHAR", "Version of the extractor (trafilatura) used."),
        ("memento_datetime", "TIMESTAMPTZ", "Memento-Datetime of a memento (RFC 7089 §2.1.1)."),
        ("memento_uri", "VARCHAR", "URI of the memento in the archive (NULL for fetches)."),
        # The page's metadata, as `documents` has it.
        *({c[0]: c for c in DOCUMENTS.columns}[name] for name in _VERSION_METADATA),
        ("final_url", "VARCHAR", "URL the response was served from, as requested."),
        ("fetched_at", "TIMESTAMPTZ", "When the attempt that got the response started."),
        ("status_code", "INTEGER", "HTTP status of the response (200)."),
        ("headers", "STRUCT(name VARCHAR, value VARCHAR)[]", "Response headers, in order."),
        ("content_type", "VARCHAR", "Media type from Content-Type."),
        ("charset", "VARCHAR", "Character encoding the body was decoded with."),
        ("body_sha256", "VARCHAR", "SHA-256 of the body bytes (Content-Encoding removed)."),
        ("body_bytes", "BIGINT", "Size of the body before compression."),
        ("body_codec", "VARCHAR", "Compression of the body in its archive file ('zstd')."),
        ("archive_file", "VARCHAR", "archive_files.file holding the body: row with this url "
         "and body_sha256 of read_parquet('<db>.archive/' || archive_file)."),
    ),
    "PRIMARY KEY (url, version)",
)

VERSION_TEXTS = Table(
    "version_texts",
    "One row per distinct text any version ever had (stored once, whatever the versions).",
    (
        ("content_sha256", "VARCHAR PRIMARY KEY", "SHA-256 of the text (UTF-8)."),
        ("text", "VARCHAR", "Main text, one paragraph per line."),
    ),
)

VERSION_CHANGES = Table(
    "version_changes",
    "One row per observed change of a URL from one version to another.",
    (
        ("url", "VARCHAR", "Normalized cited URL (urls.url)."),
        ("from_version", "INTEGER", "versions.version before the change."),
        ("to_version", "INTEGER", "versions.version after it (an earlier one when it flipped "
         "back)."),
        ("detected_at", "TIMESTAMPTZ", "When the fetch that saw the change was stored."),
        ("run_id", "VARCHAR", "runs.run_id of the run that saw it."),
        ("paragraphs_added", "INTEGER", "Paragraphs in the new text and not in the old one."),
        ("paragraphs_removed", "INTEGER", "Paragraphs in the old text and not in the new one."),
        ("similarity", "DOUBLE", "Jaccard similarity of the two texts' word 5-gram shingles."),
        ("diff", "VARCHAR", "Unified diff of the two texts, one paragraph per line."),
    ),
    "PRIMARY KEY (url, detected_at)",
)

MEMENTO_LOOKUPS = Table(
    "memento_lookups",
    "One row per question to a Memento TimeGate (RFC 7089) about a dead cited URL.",
    (
        ("url", "VARCHAR", "Normalized cited URL (urls.url)."),
        ("run_id", "VARCHAR", "runs.run_id of the run that asked."),
        ("asked_at", "TIMESTAMPTZ", "When it was asked."),
        ("timegate", "VARCHAR", "The TimeGate asked (--memento-timegate)."),
        ("accept_datetime", "TIMESTAMPTZ", "The datetime asked for: when the URL was first cited."),
        ("outcome", "VARCHAR", "'memento_ok', 'memento_none' (no capture), or the fetch "
         "outcome of a request that failed ('timeout', 'http_5xx', ...)."),
        ("memento_uri", "VARCHAR", "The memento the TimeGate named."),
        ("memento_datetime", "TIMESTAMPTZ", "Memento-Datetime of the memento fetched."),
        ("version", "INTEGER", "versions.version the memento is (new or an equal earlier one)."),
        ("error", "VARCHAR", "What went wrong, for a failed lookup."),
    ),
)

VERSION_STATEMENTS = (
    "ALTER TABLE urls ADD COLUMN body_sha256 VARCHAR",
    "ALTER TABLE urls ADD COLUMN current_version INTEGER",
    "ALTER TABLE urls ADD COLUMN last_ok_at TIMESTAMPTZ",
    "ALTER TABLE urls ADD COLUMN consecutive_failures INTEGER DEFAULT 0",
    "ALTER TABLE urls ADD COLUMN consecutive_gone INTEGER DEFAULT 0",
    "ALTER TABLE urls ADD COLUMN failing_since TIMESTAMPTZ",
    "ALTER TABLE urls ADD COLUMN is_gone BOOLEAN DEFAULT false",
    "ALTER TABLE fetches ADD COLUMN body_sha256 VARCHAR",
    "ALTER TABLE citations ADD COLUMN cited_version INTEGER",
    "COMMENT ON COLUMN urls.body_sha256 IS " + quote(
        "SHA-256 of the latest body received: a 200 with the same body is not_modified."),
    "COMMENT ON COLUMN urls.current_version IS " + quote(
        "versions.version the URL leads to now (NULL while it has none)."),
    "COMMENT ON COLUMN urls.last_ok_at IS " + quote(
        "Start of the latest fetch that ended 'ok' or 'not_modified'."),
    "COMMENT ON COLUMN urls.consecutive_failures IS " + quote(
        "Runs in a row whose fetch of the URL failed, for any reason, since the last ok."),
    "COMMENT ON COLUMN urls.consecutive_gone IS " + quote(
        "Fetches since the last ok that answered 404 or 410 or failed DNS (transient "
        "failures neither count nor reset it)."),
    "COMMENT ON COLUMN urls.failing_since IS " + quote(
        "Start of the first of those gone answers (NULL when there are none)."),
    "COMMENT ON COLUMN urls.is_gone IS " + quote(
        "True once consecutive_gone reached --gone-after-runs; false again at the next ok."),
    "COMMENT ON COLUMN fetches.body_sha256 IS " + quote(
        "SHA-256 of the body the final attempt received (NULL for a 304 or no body)."),
    "COMMENT ON COLUMN citations.cited_version IS " + quote(
        "versions.version of the URL current when the seed first cited it (the first "
        "version fetched when none was stored yet)."),
    "COMMENT ON TABLE responses IS " + quote(
        "Raw archive: one row per URL, its latest archived response: its current fetched "
        "version's, or a later one with no main text (every version's response is in "
        "versions); the body is in the Parquet file archive_file of the folder "
        "<db>.archive/ beside the database."),
    # A database from before versions: what it holds now is each URL's version 1.
    "INSERT INTO version_texts SELECT content_sha256, any_value(text) FROM documents "
    "WHERE kind = 'page' GROUP BY content_sha256",
    """
    INSERT INTO versions
    SELECT r.url, 1, d.doc_id, d.url, d.content_sha256, 'fetch', r.fetched_at,
           greatest(r.fetched_at, coalesce(
               (SELECT max(f.fetched_at) FROM fetches f WHERE f.url = r.url AND f.is_final
                  AND f.outcome IN ('ok', 'not_modified')), r.fetched_at)),
           d.extracted_at, d.extractor_version, NULL, NULL, d.title, d.author, d.published,
           d.sitename, d.hostname, d.language, d.description, d.canonical_url, r.final_url,
           r.fetched_at, r.status_code, r.headers, r.content_type, r.charset, r.body_sha256,
           r.body_bytes, r.body_codec, r.archive_file
    FROM responses r JOIN urls u ON u.url = r.url JOIN documents d ON d.doc_id = u.doc_id
    """,
    """
    UPDATE urls SET current_version = 1, body_sha256 = r.body_sha256
    FROM responses r WHERE r.url = urls.url
      AND EXISTS (SELECT 1 FROM versions v WHERE v.url = urls.url)
    """,
    """
    UPDATE urls SET last_ok_at = (SELECT max(f.fetched_at) FROM fetches f
                                  WHERE f.url = urls.url AND f.is_final
                                    AND f.outcome IN ('ok', 'not_modified'))
    """,
    "UPDATE citations SET cited_version = 1 "
    "WHERE url IN (SELECT url FROM versions)",
)

PAGE_VERSIONS = View(
    "page_versions",
    "One row per (url, version): every distinct text and title a cited URL has had.",
    """
    SELECT v.url, v.version, v.content_sha256, v.title, t.text, v.first_seen, v.last_seen,
           coalesce(u.current_version = v.version, false) AS is_current, v.source,
           v.memento_datetime, v.memento_uri, v.page_url, v.doc_id
    FROM versions v
    JOIN version_texts t ON t.content_sha256 = v.content_sha256
    LEFT JOIN urls u ON u.url = v.url
    """,
    (
        ("url", "Normalized cited URL."),
        ("version", "1, 2, ... in order of first appearance."),
        ("content_sha256", "SHA-256 of the text."),
        ("title", "Title of the version."),
        ("text", "Main text of the version, one paragraph per line."),
        ("first_seen", "When it was first fetched (or recovered from an archive)."),
        ("last_seen", "When a fetch last got it."),
        ("is_current", "True for the version the URL leads to now (documents holds its text)."),
        ("source", "'fetch' or 'memento'."),
        ("memento_datetime", "For a memento: when the archive captured it."),
        ("memento_uri", "For a memento: its URI in the archive."),
        ("page_url", "URL it was served from after redirects."),
        ("doc_id", "documents.doc_id of that page."),
    ),
)

PAGE_CHANGES = View(
    "page_changes",
    "One row per observed change of a cited URL: titles, paragraphs added and removed, diff.",
    """
    SELECT c.url, c.from_version, c.to_version, c.detected_at, a.title AS title_before,
           b.title AS title_after, c.paragraphs_added, c.paragraphs_removed, c.similarity,
           c.diff, c.run_id
    FROM version_changes c
    JOIN versions a ON a.url = c.url AND a.version = c.from_version
    JOIN versions b ON b.url = c.url AND b.version = c.to_version
    """,
    (
        ("url", "Normalized cited URL."),
        ("from_version", "Version before the change."),
        ("to_version", "Version after it (an earlier one when the page flipped back)."),
        ("detected_at", "When the change was seen."),
        ("title_before", "Title before."),
        ("title_after", "Title after."),
        ("paragraphs_added", "Paragraphs in the new text and not in the old."),
        ("paragraphs_removed", "Paragraphs in the old text and not in the new."),
        ("similarity", "Jaccard similarity of the two texts' word 5-gram shingles."),
        ("diff", "Unified diff of the texts, one paragraph per line."),
        ("run_id", "runs.run_id of the run that saw it."),
    ),
)

LINK_ROT = View(
    "link_rot",
    "One row per cited URL that answered once and is now gone (404, 410 or no DNS for "
    "--gone-after-runs runs); its last good version stays in the corpus.",
    """
    SELECT u.url, u.last_ok_at, u.failing_since AS gone_since, u.last_outcome,
           u.last_status_code, u.consecutive_failures,
           (SELECT count(*) FROM versions v WHERE v.url = u.url) AS versions_kept,
           (SELECT any_value(m.outcome ORDER BY m.asked_at DESC) FROM memento_lookups m
             WHERE m.url = u.url) AS memento_outcome
    FROM urls u
    WHERE u.is_gone AND u.last_ok_at IS NOT NULL
    """,
    (
        ("url", "Normalized cited URL."),
        ("last_ok_at", "Start of the last fetch that got the page."),
        ("gone_since", "Start of the first fetch of the streak of gone answers."),
        ("last_outcome", "Reason code of the latest fetch."),
        ("last_status_code", "HTTP status of the latest fetch, if a response arrived."),
        ("consecutive_failures", "Runs in a row whose fetch failed, for any reason."),
        ("versions_kept", "Versions of the page recite keeps (page_versions)."),
        ("memento_outcome", "Outcome of the latest web-archive lookup, if one was made."),
    ),
)

CITED_VERSIONS = View(
    "cited_versions",
    "One row per citation: the version of the URL that was current when the seed first "
    "cited it, and whether the page has changed since.",
    """
    SELECT s.path AS seed, c.url, c.cited_version AS version, c.first_seen AS first_cited,
           v.title, v.content_sha256, u.current_version,
           c.cited_version IS DISTINCT FROM u.current_version AS changed_since
    FROM citations c
    JOIN seeds s ON s.doc_id = c.doc_id
    LEFT JOIN urls u ON u.url = c.url
    LEFT JOIN versions v ON v.url = c.url AND v.version = c.cited_version
    """,
    (
        ("seed", "Path of the citing seed file."),
        ("url", "Normalized cited URL."),
        ("version", "page_versions.version as cited (NULL while none is stored)."),
        ("first_cited", "When a run first saw the citation."),
        ("title", "Title of that version."),
        ("content_sha256", "SHA-256 of that version's text."),
        ("current_version", "The URL's version now."),
        ("changed_since", "True when the URL leads to another version now."),
    ),
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "pipeline tables",
        (SEEDS, CITATIONS, URLS, FETCHES, RESPONSES, DOCUMENTS, PASSAGES, RUNS, RUN_COUNTS),
    ),
    Migration(2, "views: fetch_failures, citations_graph", views=(FETCH_FAILURES, CITATIONS_GRAPH)),
    Migration(
        3,
        "dedup: signatures, band index, verified pairs, clusters, passage near-repeats, views",
        (
            DOC_SIGNATURES, DOC_BANDS, DUPLICATE_PAIRS, CLUSTERS, PASSAGE_INDEX, PASSAGE_BANDS,
            PASSAGE_PAIRS, DEDUP_SETTINGS,
        ),
        (
            "INSERT INTO dedup_settings VALUES ('threshold', 0.8), ('boilerplate_min_docs', 3)",
        ),
        (NEAR_DUPLICATES, DUPLICATE_CLUSTERS, CORPUS, REPEATED_PASSAGES, NEAR_REPEATED_PASSAGES),
    ),
    Migration(
        20,
        "SQL clients: run_summary view; runs.status names interrupted runs",
        statements=RUNS_COMMENTS,
        views=(RUN_SUMMARY,),
    ),
    Migration(
        30,
        "raw archive: body_codec column (zstd for new rows); body_zlib renamed body_compressed",
        statements=ARCHIVE_CODEC_STATEMENTS,
    ),
    Migration(
        40,
        "step_failures: dedup steps set failing items aside; runs.status completed_with_errors",
        (STEP_FAILURES,),
        statements=STEP_FAILURE_STATEMENTS,
        views=(RUN_SUMMARY_WITH_ERRORS,),
    ),
    Migration(
        50,
        "raw bodies in Parquet files beside the database: responses.archive_file, archive_files",
        (ARCHIVE_FILES,),
        statements=ARCHIVE_FILE_STATEMENTS,
        action=move_bodies_out,
    ),
    Migration(
        60,
        "runs.status timed_out (--timeout-hours)",
        statements=TIMED_OUT_STATEMENTS,
        views=(RUN_SUMMARY_WITH_TIMEOUTS,),
    ),
    Migration(
        70,
        "page versions: versions, version_texts, version_changes, memento_lookups; views "
        "page_versions, page_changes, link_rot, cited_versions",
        (VERSIONS, VERSION_TEXTS, VERSION_CHANGES, MEMENTO_LOOKUPS),
        statements=VERSION_STATEMENTS,
        views=(PAGE_VERSIONS, PAGE_CHANGES, LINK_ROT, CITED_VERSIONS),
    ),
    Migration(
        80,
        "quotes in seeds checked against cited pages, the quote index, passage_origins; "
        "near_duplicates gains the earlier document (storage/schema_quotes.py)",
        QUOTE_TABLES,
        # step_failures.stage gains 'quotes' (the quote step is isolated: flows/ingest.py).
        statements=tuple(STEP_FAILURES.comment_sql()),
        views=QUOTE_VIEWS,
    ),
    Migration(
        90,
        "incremental publishing: publish_state and the changed_* keys (storage/catch_up.py)",
        PUBLISH_TABLES,
    ),
    Migration(100, "incremental clusters: cluster_dirty, cluster_state", CLUSTER_TABLES),
)

_MIGRATION_TABLE = Table(
    "schema_migrations",
    "One row per schema migration applied to this database.",
    (
        ("version", "INTEGER PRIMARY KEY", "Migration version."),
        ("description", "VARCHAR", "What the migration does."),
        ("applied_at", "TIMESTAMPTZ", "When it was applied."),
    ),
)


def migrate(con: duckdb.DuckDBPyConnection, migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
    """Apply the migrations this database lacks, each in its own transaction; return version."""
    con.execute(_MIGRATION_TABLE.create_sql())
    for stmt in _MIGRATION_TABLE.comment_sql():
        con.execute(stmt)
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            for table in migration.tables:
                con.execute(table.create_sql())
                for stmt in table.comment_sql():
                    con.execute(stmt)
            for stmt in migration.statements:
                con.execute(stmt)
            for view in migration.views:
                for stmt in view.statements():
                    con.execute(stmt)
            if migration.action is not None:
                migration.action(con)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, now())",
                [migration.version, migration.description],
            )
            con.execute("COMMIT")
        except duckdb.Error:
            con.execute("ROLLBACK")
            raise
    # fetchall, not fetchone: DuckDB 2 refuses register() while a result is unfinished.
    (version,) = con.execute("SELECT max(version) FROM schema_migrations").fetchall()[0]
    return int(version) if version is not None else 0
