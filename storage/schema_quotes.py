"""Schema of migration 80: quotations in seeds, their checks against cited pages, the corpus
index that finds them elsewhere, and who published a repeated passage first (issue 18)."""

from storage.schema_parts import Table, View

QUOTES = Table(
    "quotes",
    "One row per quotation found in a seed (text between quotation marks, at least "
    "--min-quote-words words, cut at 300).",
    (
        ("seed_doc_id", "BIGINT", "documents.doc_id of the seed (seeds.doc_id)."),
        ("ordinal", "INTEGER", "Position of the quotation in the seed, from 0, in order of "
         "their opening marks."),
        ("text", "VARCHAR", "The quoted words, whitespace collapsed (marks excluded)."),
        ("norm_text", "VARCHAR", "The quoted words normalized as dedup normalizes texts."),
        ("quote_key", "BIGINT", "Hash of norm_text: equal normalized quotes, equal key."),
        ("start_char", "INTEGER", "Offset of the first quoted character in the seed's text."),
        ("end_char", "INTEGER", "Offset just past the last quoted character."),
        ("words", "INTEGER", "Number of words."),
        ("depth", "INTEGER", "0 for a quotation, 1 for a quotation inside one, ..."),
        ("truncated", "BOOLEAN", "True when the quotation was longer than 300 words and cut."),
    ),
    "PRIMARY KEY (seed_doc_id, ordinal)",
)

QUOTE_SCANS = Table(
    "quote_scans",
    "One row per seed searched for quotations: which text, with which setting, and what "
    "was skipped.",
    (
        ("seed_doc_id", "BIGINT PRIMARY KEY", "documents.doc_id of the seed."),
        ("content_sha256", "VARCHAR", "documents.content_sha256 of the seed text searched."),
        ("min_words", "INTEGER", "--min-quote-words in force."),
        ("quotes", "INTEGER", "Quotations kept (rows in quotes)."),
        ("unbalanced", "INTEGER", "Quotation marks skipped because unbalanced (never closed, "
         "or closing nothing)."),
        ("too_short", "INTEGER", "Quotations skipped for having fewer than min_words words."),
        ("scanned_at", "TIMESTAMPTZ", "When the seed was searched."),
    ),
)

QUOTE_RESULTS = Table(
    "quote_results",
    "One row per (quotation, page its seed cites): whether the page holds the quotation.",
    (
        ("seed_doc_id", "BIGINT", "quotes.seed_doc_id."),
        ("ordinal", "INTEGER", "quotes.ordinal."),
        ("url", "VARCHAR", "citations.url: the cited URL."),
        ("result", "VARCHAR", "'exact', 'near', 'absent' or 'unavailable' (never fetched "
         "with a text)."),
        ("containment", "DOUBLE", "Share of the quote's word 3-grams found in order in one "
         "window of the page (1 for exact; NULL when unavailable)."),
        ("matched_text", "VARCHAR", "The page's own words that matched (exact or near)."),
        ("version", "INTEGER", "versions.version checked: the one cited, else the current "
         "one (NULL when unavailable)."),
        ("content_sha256", "VARCHAR", "SHA-256 of the text checked (NULL when unavailable)."),
        ("checked_at", "TIMESTAMPTZ", "When it was checked."),
    ),
    "PRIMARY KEY (seed_doc_id, ordinal, url)",
)

QUOTE_GRAMS = Table(
    "quote_grams",
    "One row per (distinct normalized quotation, word 3-gram): the quotation side of the "
    "corpus index.",
    (
        ("quote_key", "BIGINT", "quotes.quote_key."),
        ("gram", "BIGINT", "Hash of a word 3-gram of the quotation (dedup's shingle hash)."),
        ("grams", "INTEGER", "Distinct 3-grams of the quotation."),
        ("total", "INTEGER", "3-grams of the quotation, repeats counted."),
    ),
)

QUOTE_INDEX = Table(
    "quote_index",
    "Inverted index of pages' word 3-grams: one row per (3-gram, page); updated for new "
    "or changed pages only.",
    (
        ("gram", "BIGINT", "Hash of a word 3-gram (dedup's shingle hash)."),
        ("doc_id", "BIGINT", "documents.doc_id of a page whose text has it."),
    ),
)

QUOTE_INDEX_DOCS = Table(
    "quote_index_docs",
    "One row per page in quote_index: which text of it is indexed.",
    (
        ("doc_id", "BIGINT PRIMARY KEY", "documents.doc_id."),
        ("content_sha256", "VARCHAR", "documents.content_sha256 indexed."),
        ("grams", "INTEGER", "Distinct word 3-grams indexed."),
    ),
)

QUOTE_SIGHTINGS = Table(
    "quote_sightings",
    "One row per (distinct normalized quotation, page) where the page's current text holds "
    "the quotation exactly or near.",
    (
        ("quote_key", "BIGINT", "quotes.quote_key."),
        ("doc_id", "BIGINT", "documents.doc_id of the page."),
        ("result", "VARCHAR", "'exact' or 'near'."),
        ("containment", "DOUBLE", "As quote_results.containment."),
        ("content_sha256", "VARCHAR", "documents.content_sha256 of the text that held it."),
    ),
    "PRIMARY KEY (quote_key, doc_id)",
)

QUOTE_CHECKS = View(
    "quote_checks",
    "One row per (quotation in a seed, URL the seed cites): does the page hold the quote?",
    """
    SELECT r.seed_doc_id, s.path AS seed, r.ordinal AS quote_ordinal, q.text AS quote, r.url,
           r.result, r.containment, r.matched_text, r.version, q.words, q.depth,
           r.content_sha256
    FROM quote_results r
    JOIN quotes q ON q.seed_doc_id = r.seed_doc_id AND q.ordinal = r.ordinal
    JOIN citations c ON c.doc_id = r.seed_doc_id AND c.url = r.url
    LEFT JOIN seeds s ON s.doc_id = r.seed_doc_id
    """,
    (
        ("seed_doc_id", "documents.doc_id of the seed."),
        ("seed", "Path of the seed file."),
        ("quote_ordinal", "quotes.ordinal of the quotation."),
        ("quote", "The quoted words as the seed has them."),
        ("url", "The cited URL."),
        ("result", "'exact' (the normalized quote is in the page's normalized text), 'near' "
         "(>= 80% of its word 3-grams in order within a window), 'absent', or 'unavailable' "
         "(the page was never fetched with a text)."),
        ("containment", "Share of the quote's 3-grams found in order (NULL if unavailable)."),
        ("matched_text", "The page's own words that matched (exact or near)."),
        ("version", "page_versions.version checked: as cited, else current (NULL if "
         "unavailable)."),
        ("words", "Words in the quotation."),
        ("depth", "0 for a quotation, 1 for one nested in another, ..."),
        ("content_sha256", "SHA-256 of the page text checked."),
    ),
)

CITATION_SUPPORT = View(
    "citation_support",
    "One row per citation of a seed: how many of the seed's quotations the page holds, and "
    "the share of the seed's passages found on it.",
    """
    WITH counts AS (
        SELECT seed_doc_id, url, count(*) AS checked,
               count(*) FILTER (WHERE result = 'exact') AS exact,
               count(*) FILTER (WHERE result = 'near') AS near,
               count(*) FILTER (WHERE result = 'absent') AS absent,
               count(*) FILTER (WHERE result = 'unavailable') AS unavailable
        FROM quote_results GROUP BY seed_doc_id, url
    ),
    seed_passages AS (
        SELECT DISTINCT p.doc_id, p.norm_hash
        FROM passages p JOIN seeds s ON s.doc_id = p.doc_id
        WHERE p.counts_for_repeats
    ),
    page_passages AS (SELECT DISTINCT doc_id, norm_hash FROM passages),
    neighbours AS (
        SELECT hash_a AS h, hash_b AS other FROM passage_pairs
        UNION ALL SELECT hash_b, hash_a FROM passage_pairs
    ),
    found AS (
        SELECT c.doc_id, c.url, sp.norm_hash
        FROM citations c JOIN urls u ON u.url = c.url
        JOIN seed_passages sp ON sp.doc_id = c.doc_id
        JOIN page_passages pp ON pp.doc_id = u.doc_id AND pp.norm_hash = sp.norm_hash
        UNION
        SELECT c.doc_id, c.url, sp.norm_hash
        FROM citations c JOIN urls u ON u.url = c.url
        JOIN seed_passages sp ON sp.doc_id = c.doc_id
        JOIN neighbours n ON n.h = sp.norm_hash
        JOIN page_passages pp ON pp.doc_id = u.doc_id AND pp.norm_hash = n.other
    ),
    shares AS (
        SELECT sp.doc_id, c.url,
               count(f.norm_hash) / count(*) AS share
        FROM citations c
        JOIN seed_passages sp ON sp.doc_id = c.doc_id
        LEFT JOIN found f ON f.doc_id = c.doc_id AND f.url = c.url AND f.norm_hash = sp.norm_hash
        GROUP BY sp.doc_id, c.url
    )
    SELECT c.doc_id AS seed_doc_id, s.path AS seed, c.url,
           coalesce(k.checked, 0) AS quotes_checked, coalesce(k.exact, 0) AS exact,
           coalesce(k.near, 0) AS near, coalesce(k.absent, 0) AS absent,
           coalesce(k.unavailable, 0) AS unavailable,
           CASE WHEN d.doc_id IS NOT NULL THEN coalesce(sh.share, 0.0) END AS passage_share
    FROM citations c
    JOIN seeds s ON s.doc_id = c.doc_id
    LEFT JOIN urls u ON u.url = c.url
    LEFT JOIN documents d ON d.doc_id = u.doc_id
    LEFT JOIN counts k ON k.seed_doc_id = c.doc_id AND k.url = c.url
    LEFT JOIN shares sh ON sh.doc_id = c.doc_id AND sh.url = c.url
    """,
    (
        ("seed_doc_id", "documents.doc_id of the seed."),
        ("seed", "Path of the seed file."),
        ("url", "The cited URL."),
        ("quotes_checked", "The seed's quotations checked against the page."),
        ("exact", "Of those, found exactly."),
        ("near", "Found near (>= 80% of the 3-grams in order)."),
        ("absent", "Not found."),
        ("unavailable", "Not checked: the page was never fetched with a text."),
        ("passage_share", "Share of the seed's passages (long enough to count as repeats) "
         "that the page has, exactly or as a near repeat; NULL when there is no page text."),
    ),
)

# A document's date by the rule: its published date, else the day it was first
# seen (UTC days from the epoch: no time zone extension needed in a client).
_DOC_DATES = """
    SELECT doc_id, url, try_cast(published AS DATE) AS published_date,
           DATE '1970-01-01' + CAST(floor(epoch(first_seen) / 86400) AS INTEGER) AS seen_date,
           first_seen
    FROM documents
"""

QUOTE_FOUND_ELSEWHERE = View(
    "quote_found_elsewhere",
    "One row per quotation absent from, or unavailable on, a page its seed cites, with the "
    "other pages of the corpus that hold it (from the quote index, not a scan).",
    f"""
    WITH dates AS ({_DOC_DATES}),
    missing AS (
        SELECT DISTINCT seed_doc_id, ordinal FROM quote_results
        WHERE result IN ('absent', 'unavailable')
    ),
    cited AS (
        SELECT c.doc_id AS seed_doc_id, u.doc_id AS page_id
        FROM citations c JOIN urls u ON u.url = c.url WHERE u.doc_id IS NOT NULL
    ),
    elsewhere AS (
        SELECT m.seed_doc_id, m.ordinal, g.doc_id, g.result, d.url, d.published_date,
               d.seen_date, d.first_seen
        FROM missing m
        JOIN quotes q ON q.seed_doc_id = m.seed_doc_id AND q.ordinal = m.ordinal
        JOIN quote_sightings g ON g.quote_key = q.quote_key
        JOIN dates d ON d.doc_id = g.doc_id
        WHERE NOT EXISTS (SELECT 1 FROM cited c
                          WHERE c.seed_doc_id = m.seed_doc_id AND c.page_id = g.doc_id)
    ),
    ranked AS (
        SELECT *, row_number() OVER (
            PARTITION BY seed_doc_id, ordinal
            ORDER BY published_date IS NULL, published_date, first_seen, doc_id) AS rank,
            count(*) OVER (PARTITION BY seed_doc_id, ordinal) AS documents,
            count(*) FILTER (WHERE result = 'exact')
                OVER (PARTITION BY seed_doc_id, ordinal) AS exact_documents
        FROM elsewhere
    )
    SELECT r.seed_doc_id, s.path AS seed, r.ordinal AS quote_ordinal, q.text AS quote,
           r.documents, r.exact_documents, r.doc_id AS earliest_doc_id,
           r.url AS earliest_url, coalesce(r.published_date, r.seen_date) AS earliest_date,
           CASE WHEN r.published_date IS NULL THEN 'first_seen' ELSE 'published' END
               AS date_source
    FROM ranked r
    JOIN quotes q ON q.seed_doc_id = r.seed_doc_id AND q.ordinal = r.ordinal
    LEFT JOIN seeds s ON s.doc_id = r.seed_doc_id
    WHERE r.rank = 1
    """,
    (
        ("seed_doc_id", "documents.doc_id of the seed."),
        ("seed", "Path of the seed file."),
        ("quote_ordinal", "quotes.ordinal."),
        ("quote", "The quoted words."),
        ("documents", "Pages not cited by the seed that hold the quote (exact or near)."),
        ("exact_documents", "Of those, pages holding it exactly."),
        ("earliest_doc_id", "documents.doc_id of the earliest of them (published date, else "
         "first seen)."),
        ("earliest_url", "Its URL."),
        ("earliest_date", "Its published date, else the day it was first seen (UTC)."),
        ("date_source", "'published' or 'first_seen'."),
    ),
)

PASSAGE_ORIGINS = View(
    "passage_origins",
    "One row per passage repeated across pages (an exact group, or a cluster of near "
    "repeats): the page that published it first, and its copies.",
    f"""
    WITH RECURSIVE edges AS (
        SELECT hash_a AS a, hash_b AS b FROM passage_pairs
        UNION ALL SELECT hash_b, hash_a FROM passage_pairs
    ),
    reach(node, label) AS (
        SELECT a, a FROM edges
        UNION
        SELECT e.b, r.label FROM reach r JOIN edges e ON e.a = r.node
    ),
    near_groups AS (SELECT node AS norm_hash, min(label) AS group_hash FROM reach GROUP BY node),
    members AS (
        SELECT p.norm_hash AS group_hash, 'exact' AS kind, p.doc_id, p.text
        FROM passages p JOIN documents d ON d.doc_id = p.doc_id
        WHERE d.kind = 'page' AND p.counts_for_repeats
        UNION ALL
        SELECT g.group_hash, 'near', p.doc_id, p.text
        FROM passages p JOIN near_groups g ON g.norm_hash = p.norm_hash
        JOIN documents d ON d.doc_id = p.doc_id
        WHERE d.kind = 'page'
    ),
    groups AS (
        SELECT group_hash, kind, min(text) AS text FROM members
        GROUP BY group_hash, kind HAVING count(DISTINCT doc_id) > 1
    ),
    dates AS ({_DOC_DATES}),
    docs AS (
        SELECT DISTINCT m.group_hash, m.kind, m.doc_id, d.url, d.published_date, d.seen_date,
               d.first_seen, coalesce(d.published_date, d.seen_date) AS doc_date
        FROM members m JOIN groups USING (group_hash, kind) JOIN dates d ON d.doc_id = m.doc_id
    ),
    ranked AS (
        SELECT *, row_number() OVER (
            PARTITION BY group_hash, kind
            ORDER BY published_date IS NULL, published_date, first_seen, doc_id) AS rank,
            count(*) OVER (PARTITION BY group_hash, kind) AS documents,
            max(doc_date) OVER (PARTITION BY group_hash, kind) AS latest_date
        FROM docs
    )
    SELECT r.group_hash AS passage_hash, g.text, r.kind, r.doc_id AS origin_doc_id,
           r.url AS origin_url, r.doc_date AS origin_date,
           CASE WHEN r.published_date IS NULL THEN 'first_seen' ELSE 'published' END
               AS date_source,
           r.documents - 1 AS copies, r.latest_date - r.doc_date AS latest_lag_days
    FROM ranked r JOIN groups g USING (group_hash, kind)
    WHERE r.rank = 1
    """,
    (
        ("passage_hash", "For an exact group, passages.norm_hash; for a near cluster, the "
         "smallest norm_hash in it."),
        ("text", "One passage's text (the smallest, for a stable choice)."),
        ("kind", "'exact' (the same normalized passage) or 'near' (passages joined by near "
         "repeats, near_repeated_passages)."),
        ("origin_doc_id", "documents.doc_id of the page that had it first: earliest "
         "published date, else earliest first seen."),
        ("origin_url", "URL of that page."),
        ("origin_date", "Its published date, else the day it was first seen (UTC)."),
        ("date_source", "'published' or 'first_seen': how origin_date is known."),
        ("copies", "Pages other than the origin that have it."),
        ("latest_lag_days", "Days from origin_date to the date of the latest copy (each "
         "page's published date, else its first-seen day)."),
    ),
)

# near_duplicates' columns since migration 3. Version 2 (migration 80) keeps them first,
# so existing queries keep working, then adds the earlier of the two documents by
# passage_origins' rule.
PAIR_COLUMNS: tuple[tuple[str, str], ...] = (
    ("doc_a", "documents.doc_id of the first document (doc_a < doc_b)."),
    ("doc_b", "documents.doc_id of the second document."),
    ("url_a", "URL of the first document."),
    ("url_b", "URL of the second document."),
    ("jaccard", "Exact Jaccard similarity of their word 5-gram shingle sets."),
    ("exact", "True when the normalized texts are identical."),
)

NEAR_DUPLICATES_WITH_ORIGIN = View(
    "near_duplicates",
    "One row per verified near-duplicate pair of documents at or above the run's "
    "threshold, with the one published first.",
    f"""
    WITH dates AS ({_DOC_DATES})
    SELECT p.doc_a, p.doc_b, da.url AS url_a, db.url AS url_b, p.jaccard, p.exact,
           e.doc_id AS earlier_doc_id, e.url AS earlier_url,
           coalesce(e.published_date, e.seen_date) AS earlier_date,
           CASE WHEN e.published_date IS NULL THEN 'first_seen' ELSE 'published' END
               AS earlier_date_source
    FROM duplicate_pairs p
    JOIN dates da ON da.doc_id = p.doc_a
    JOIN dates db ON db.doc_id = p.doc_b
    JOIN dates e ON e.doc_id = CASE
        WHEN da.published_date IS NOT NULL AND db.published_date IS NULL THEN p.doc_a
        WHEN da.published_date IS NULL AND db.published_date IS NOT NULL THEN p.doc_b
        WHEN da.published_date < db.published_date THEN p.doc_a
        WHEN da.published_date > db.published_date THEN p.doc_b
        WHEN da.first_seen > db.first_seen THEN p.doc_b
        ELSE p.doc_a END
    WHERE p.jaccard >= (SELECT value FROM dedup_settings WHERE name = 'threshold')
    """,
    (
        *PAIR_COLUMNS,
        ("earlier_doc_id", "The one published first: earliest published date, else earliest "
         "first seen (passage_origins' rule)."),
        ("earlier_url", "Its URL."),
        ("earlier_date", "Its published date, else the day it was first seen (UTC)."),
        ("earlier_date_source", "'published' or 'first_seen'."),
    ),
)

QUOTE_TABLES = (
    QUOTES, QUOTE_SCANS, QUOTE_RESULTS, QUOTE_GRAMS, QUOTE_INDEX, QUOTE_INDEX_DOCS,
    QUOTE_SIGHTINGS,
)
QUOTE_VIEWS = (
    QUOTE_CHECKS, CITATION_SUPPORT, QUOTE_FOUND_ELSEWHERE, PASSAGE_ORIGINS,
    NEAR_DUPLICATES_WITH_ORIGIN,
)
