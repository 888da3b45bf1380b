"""The names `run_counts` rows are made of: the stages, and each stage's reasons.

The flows count items by (stage, reason) with these enums and store the counts in
`run_counts`; the `run_summary` view (storage/schema.py) reads some of them back by name.
The view's SQL keeps its literals (a migration runs the SQL it ran, whatever the enums
say later); tests/storage/test_outcomes.py checks that each literal it reads is one of
these values and that it reads every reason where it should. Renaming a value therefore
needs a new migration that replaces the view.

Fetch reasons are mostly the fetcher's own outcomes (`fetching.Outcome`), extraction
reasons the extractor's (`extractors.content.ExtractReason`); a seed's reason is its
status, then the codes of what cut or skipped it (pipeline/steps.py `_seed_reason`).
"""

from enum import StrEnum


class Stage(StrEnum):
    """A pipeline stage: `run_counts.stage`."""

    SEEDS = "seeds"
    CITATIONS = "citations"
    FETCH = "fetch"
    EXTRACT = "extract"
    DOCUMENTS = "documents"
    DEDUP = "dedup"
    PASSAGES = "passages"
    VERSIONS = "versions"
    MEMENTO = "memento"
    QUOTES = "quotes"
    # One row per dedup step with items set aside; the reason is the `Step`.
    ERRORS = "errors"


class FetchSkip(StrEnum):
    """Why a cited URL was not fetched this run (fetch reasons besides the `Outcome`s)."""

    DONE_BY_INTERRUPTED_RUN = "done_by_interrupted_run"
    SKIPPED_FRESH = "skipped_fresh"
    DEFERRED_RUN_CAP = "deferred_run_cap"


class CitationReason(StrEnum):
    """What the seeds' links were: cited URLs, or links refused as URLs."""

    FOUND = "found"
    REJECTED_LINK = "rejected_link"


class DocumentReason(StrEnum):
    """What storing a seed's or a page's document did to its row."""

    SEED_CHANGED = "seed_changed"
    SEED_UNCHANGED = "seed_unchanged"
    PAGE_CHANGED = "page_changed"
    PAGE_UNCHANGED = "page_unchanged"
    # Re-extraction: same text, other metadata.
    PAGE_METADATA_CHANGED = "page_metadata_changed"


class VersionReason(StrEnum):
    """What recording page versions counted (issue 16)."""

    NEW = "new"  # a version never seen before (the first of a URL included)
    RETURNED = "returned"  # back to an earlier version
    CHANGES = "changes"  # changes of a URL from one version to another
    GONE = "gone"  # URLs that went gone this run (link_rot)


class DedupReason(StrEnum):
    """What the document dedup step counted."""

    SIGNED = "signed"
    CANDIDATES = "candidates"
    PAIRS_VERIFIED = "pairs_verified"
    CLUSTERS = "clusters"
    CLUSTERED_DOCUMENTS = "clustered_documents"


class PassageReason(StrEnum):
    """What the passage step counted."""

    INDEXED = "indexed"
    NEAR_REPEAT_PAIRS = "near_repeat_pairs"


class QuoteReason(StrEnum):
    """What the quote step did (storage/quotes.py, pipeline/quotes.py)."""

    SEEDS_SCANNED = "seeds_scanned"  # seeds searched for quotations (new, edited, resetting)
    FOUND = "found"  # quotations kept in those seeds
    UNBALANCED = "unbalanced"  # quotation marks skipped as unbalanced
    TOO_SHORT = "too_short"  # quotations under --min-quote-words
    PAGES_INDEXED = "pages_indexed"  # pages (re)indexed in the corpus 3-gram index
    SIGHTINGS = "sightings"  # (quotation, page) pairs found anywhere in the corpus
    EXACT = "exact"  # checks against a cited page, by result
    NEAR = "near"
    ABSENT = "absent"
    UNAVAILABLE = "unavailable"


class Step(StrEnum):
    """A dedup step whose items can be set aside: `step_failures.stage`, and the reason of
    `Stage.ERRORS` counts."""

    DEDUP = "dedup"
    PASSAGES = "passages"
    CLUSTERS = "clusters"
    QUOTES = "quotes"  # the quote step as a whole (pipeline/quotes.py)



class RunStatus(StrEnum):
    """How a run ended (or that it has not): `runs.status`."""

    RUNNING = "running"
    COMPLETED = "completed"
    # Completed, but a dedup step set items aside (`step_failures`); published.
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    # Left `running` by a killed process; marked by the next run.
    INTERRUPTED = "interrupted"
