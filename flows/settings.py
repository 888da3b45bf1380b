"""The run's parameters: one typed model, also read from `RECITE_<NAME>` environment variables.

`IngestParameters` is the `ingest` flow's only parameter, so the Prefect UI shows each
field as a form input with its description and refuses values outside the bounds.
`Settings` is the same model read from the environment; each field is also a
`recite run` flag (see cli/main.py). No module-level instance: callers build one.
`ReextractParameters`, the `reextract` flow's, reuses ingest's fields.

Each setting is declared here once; the libraries' configs keep their own defaults
(`FetchConfig`, `DedupConfig`), which these fields take, and are built from the fields
by name (`fetch_config`, `dedup_config`).
"""

# No `from __future__ import annotations` here: Prefect resolves these models at serve time
# (PrefectHQ/prefect#19447).
import json
import os
from typing import Annotated, Any, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from extractors.quotes import DEFAULT_MIN_WORDS, MAX_WORDS
from fetching.config import FetchConfig
from pipeline.dedup_step import STORED_PAIR_MIN_JACCARD, DedupConfig
from storage.database import MEMORY_SIZE

FETCH_DEFAULTS = FetchConfig()
DEDUP_DEFAULTS = DedupConfig()


class IngestParameters(BaseModel):
    """Parameters of one ingest run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seeds: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["examples/seeds"],
        description="Seed files or folders (read recursively): .txt, .md, .html.",
        min_length=1,
    )
    db: str = Field(
        "data/recite.duckdb",
        description="DuckDB file that SQL clients open; the run publishes to it at the end.",
    )
    allow_private_addresses: bool = Field(
        FETCH_DEFAULTS.allow_private_addresses,
        description="Fetch URLs resolving to loopback/private/link-local addresses "
        "(tests, intranets). Schemes, credentials and ports are still checked.",
    )
    allowed_ports: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: list(FETCH_DEFAULTS.allowed_ports or ()),
        description="Ports URLs may use; an empty list allows any port.",
    )
    concurrency: int = Field(
        FETCH_DEFAULTS.concurrency, ge=1, le=512,
        description="Requests in flight at once, all hosts.",
    )
    per_host_concurrency: int = Field(
        FETCH_DEFAULTS.per_host_concurrency, ge=1, le=32, description="Requests in flight per host."
    )
    per_host_delay: float = Field(
        FETCH_DEFAULTS.per_host_delay, ge=0.0, le=300.0,
        description="Minimum seconds between requests to one host.",
    )
    connect_timeout: float = Field(
        FETCH_DEFAULTS.connect_timeout, gt=0, le=300, description="Seconds to connect."
    )
    read_timeout: float = Field(
        FETCH_DEFAULTS.read_timeout, gt=0, le=600, description="Seconds between bytes read."
    )
    total_timeout: float = Field(
        FETCH_DEFAULTS.total_timeout, gt=0, le=3600,
        description="Seconds a whole request may take (slow-drip guard).",
    )
    max_bytes: int = Field(
        FETCH_DEFAULTS.max_bytes, ge=1024, le=1 << 30,
        description="Largest body kept, after decoding.",
    )
    max_redirects: int = Field(
        FETCH_DEFAULTS.max_redirects, ge=0, le=30, description="Redirects followed per URL."
    )
    max_attempts: int = Field(
        FETCH_DEFAULTS.max_attempts, ge=1, le=10, description="Tries per URL (retries + 1)."
    )
    retry_after_cap: float = Field(
        FETCH_DEFAULTS.retry_after_cap, ge=0, le=3600,
        description="Longest Retry-After honoured in a run; longer defers to the next run.",
    )
    respect_robots: bool = Field(
        FETCH_DEFAULTS.respect_robots, description="Obey robots.txt for recite's User-Agent."
    )
    user_agent: str = Field(
        FETCH_DEFAULTS.user_agent, min_length=1, description="User-Agent header."
    )
    refetch_after_hours: float = Field(
        0.0, ge=0.0, le=24 * 365,
        description="Re-fetch a known URL only if its last fetch is older (0: every run).",
    )
    batch_size: int = Field(
        200, ge=1, le=10_000, description="URLs per fetch/extract batch (one task run each)."
    )
    extract_workers: int = Field(
        0, ge=0, le=256, description="Processes extracting text (0: one per CPU core)."
    )
    max_seed_bytes: int = Field(
        20 * 1024 * 1024, ge=1, description="Bytes read of one seed file; the rest is cut."
    )
    max_urls_per_seed: int = Field(10_000, ge=0, description="URLs taken from one seed.")
    max_urls_per_run: int = Field(100_000, ge=0, description="URLs fetched in one run.")
    # Its lower bound is the Jaccard from which pairs are stored: any value in bounds is
    # served by the stored pairs, without verifying again.
    dedup_threshold: float = Field(
        DEDUP_DEFAULTS.dedup_threshold, ge=STORED_PAIR_MIN_JACCARD, le=1.0,
        description="Exact Jaccard similarity (of word 5-gram sets) at or above which two "
        "documents are near-duplicates: shown in near_duplicates and clustered.",
    )
    boilerplate_min_docs: int = Field(
        DEDUP_DEFAULTS.boilerplate_min_docs, ge=2, le=100_000,
        description="A passage in at least this many documents of one site is boilerplate.",
    )
    dedup_batch: int = Field(
        DEDUP_DEFAULTS.dedup_batch, ge=1, le=100_000,
        description="Documents signed and compared per dedup task run.",
    )
    min_quote_words: int = Field(
        DEFAULT_MIN_WORDS, ge=1, le=MAX_WORDS,
        description="Fewest words a quotation in a seed needs to be checked against the pages "
        "the seed cites (shorter ones match pages by chance); quotations are cut at "
        f"{MAX_WORDS} words.",
    )
    gone_after_runs: int = Field(
        2, ge=1, le=365,
        description="Runs in a row a page that answered before must answer 404 or 410 (or "
        "have no DNS) before it is listed in link_rot. Its last version stays in the corpus; "
        "5xx and timeouts never count.",
    )
    memento_timegate: str = Field(
        "https://web.archive.org/web/",
        pattern=r"^(|https?://\S+)$",
        description="Memento TimeGate (RFC 7089) asked for the capture nearest the citation "
        "date of a cited URL that is gone or never answered; the original URL is appended. "
        "Empty turns the fallback off.",
    )
    timeout_hours: float = Field(
        6.0, gt=0, le=168,
        description="Hours a run may take before it stops, marked 'timed_out', releases the "
        "writer lock and publishes nothing; the next run resumes after the batches it stored. "
        "Checked between batches.",
    )
    resume_attempts: int = Field(
        2, ge=0, le=10,
        description="A run of a deployment (recite serve, prefect.yaml) that crashes or times "
        "out is started again, up to this many times in a row; each resumes from the working "
        "file after the batches already stored. 0: never.",
    )
    db_memory_limit: str = Field(
        "1GB", pattern=f"^{MEMORY_SIZE}$",
        description="DuckDB memory limit of the run's database connection, e.g. '1GB'. DuckDB "
        "caches the database in memory up to its limit (80% of RAM by default), so without "
        "one a run's memory grows with the corpus; joins past it spill to disk.",
    )
    task_runner: str = Field(
        "default", pattern="^(default|dask)$",
        description="Where fetch, extract and signature batches run: 'default' (this process "
        "and a local process pool) or 'dask' (a Dask cluster, through prefect-dask). Storage "
        "always stays in the flow's process.",
    )
    report_dir: str = Field(
        "",
        description="Folder of the static HTML report (as `recite report --out` writes it), "
        "rendered again from the published database after every run; open its index.html "
        "in a browser. Empty: no report. A report that fails is a warning, never a failed run.",
    )
    dask_address: str | None = Field(
        None,
        description="Scheduler of the Dask cluster for --task-runner dask (tcp://HOST:PORT); "
        "empty: a temporary local cluster.",
    )

    @field_validator("seeds", mode="before")
    @classmethod
    def _split_paths(cls, value: Any) -> Any:
        return _split(value, os.pathsep)

    @field_validator("allowed_ports", mode="before")
    @classmethod
    def _split_ports(cls, value: Any) -> Any:
        return _split(value, ",")

    def fetch_config(self) -> FetchConfig:
        """The fetcher's configuration for these parameters."""
        return FetchConfig(
            user_agent=self.user_agent,
            concurrency=self.concurrency,
            per_host_concurrency=self.per_host_concurrency,
            per_host_delay=self.per_host_delay,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            total_timeout=self.total_timeout,
            max_bytes=self.max_bytes,
            max_redirects=self.max_redirects,
            max_attempts=self.max_attempts,
            retry_after_cap=self.retry_after_cap,
            respect_robots=self.respect_robots,
            allow_private_addresses=self.allow_private_addresses,
            allowed_ports=tuple(self.allowed_ports) or None,
        )

    def dedup_config(self) -> DedupConfig:
        """The dedup step's configuration for these parameters."""
        return DedupConfig(
            dedup_threshold=self.dedup_threshold,
            boilerplate_min_docs=self.boilerplate_min_docs,
            dedup_batch=self.dedup_batch,
        )


def _ingest_field(name: str, description: str, optional: bool = False) -> Any:
    """Ingest's field `name` (bounds, default) with another description; optional: default None."""
    field = IngestParameters.model_fields[name]
    if optional:
        return FieldInfo.merge_field_infos(field, default=None, description=description)
    return FieldInfo.merge_field_infos(field, description=description)


class ReextractParameters(BaseModel):
    """Parameters of one re-extraction run."""

    # Ingest's fields, reused: only descriptions differ, and the two dedup settings
    # default to None (the latest run's values).
    model_config = ConfigDict(frozen=True, extra="forbid")

    db: str = _ingest_field(
        "db", "DuckDB file written by `recite run`; re-extracted and published again."
    )
    extract_workers: int = cast(Any, IngestParameters.model_fields["extract_workers"])
    batch_size: int = _ingest_field(
        "batch_size", "Pages per re-extraction batch (one task run each)."
    )
    dedup_threshold: float | None = _ingest_field(
        "dedup_threshold",
        "Jaccard similarity of near-duplicates (empty: the latest run's).",
        optional=True,
    )
    boilerplate_min_docs: int | None = _ingest_field(
        "boilerplate_min_docs",
        "Documents of one site that make a passage boilerplate (empty: the latest run's).",
        optional=True,
    )
    dedup_batch: int = cast(Any, IngestParameters.model_fields["dedup_batch"])
    min_quote_words: int | None = _ingest_field(
        "min_quote_words",
        "Fewest words of a quotation checked (empty: the latest run's).",
        optional=True,
    )
    db_memory_limit: str = cast(Any, IngestParameters.model_fields["db_memory_limit"])
    report_dir: str = cast(Any, IngestParameters.model_fields["report_dir"])

    def dedup_config(self, latest: tuple[float, int] | None) -> DedupConfig:
        """The dedup settings: these parameters', else `latest` (the latest run's), else defaults."""
        threshold, min_docs = latest or (
            DEDUP_DEFAULTS.dedup_threshold, DEDUP_DEFAULTS.boilerplate_min_docs
        )
        if self.dedup_threshold is not None:
            threshold = self.dedup_threshold
        if self.boilerplate_min_docs is not None:
            min_docs = self.boilerplate_min_docs
        return DedupConfig(
            dedup_threshold=threshold, boilerplate_min_docs=min_docs, dedup_batch=self.dedup_batch
        )


class Settings(IngestParameters, BaseSettings):
    """`IngestParameters` read from `RECITE_<NAME>` environment variables."""

    model_config = SettingsConfigDict(env_prefix="RECITE_", frozen=True, extra="ignore")

    def parameters(self, **overrides: Any) -> IngestParameters:
        """The flow parameters: these settings with explicit overrides (e.g. CLI flags)."""
        values = self.model_dump()
        values.update({k: v for k, v in overrides.items() if v is not None})
        return IngestParameters(**values)


class AlertSettings(BaseSettings):
    """Where and when `recite serve` (or `recite alerts`) sends alerts about nightly runs."""

    model_config = SettingsConfigDict(env_prefix="RECITE_", frozen=True, extra="ignore")

    alert_webhook: str | None = Field(
        None, pattern=r"^https?://\S+$",
        description="URL that gets a JSON POST when a nightly run fails, crashes, times out, "
        "or none completed within --alert-window-hours (README: Alerts). Empty: no alerts.",
    )
    # At least 10 s: Prefect's floor for a proactive trigger's window.
    alert_window_hours: float = Field(
        26.0, ge=10 / 3600, le=24 * 365,
        description="Alert when no nightly run completed this many hours after the last one "
        "that did.",
    )

    @field_validator("alert_webhook", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def given(cls, **values: Any) -> "AlertSettings":
        """The environment's settings with the values given (CLI flags; None: not given)."""
        return cls(**{k: v for k, v in values.items() if v is not None})


def _split(value: Any, sep: str) -> Any:
    """Accept a JSON list or a `sep`-separated string (environment variables are strings)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        return json.loads(text)
    return [part.strip() for part in text.split(sep) if part.strip()]
