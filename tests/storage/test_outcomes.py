"""Stage and reason names: the counts the code makes and the SQL that reads them agree.

The code counts items by (stage, reason) with the enums of storage/outcomes.py (and the
fetcher's and the extractor's own); the views keep their SQL literals (a migration runs
the SQL it ran). Renaming a value on one side only would make run_summary report 0
without an error anywhere: these tests fail instead.
"""

import ast
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import duckdb
import pytest

from extractors.content import ExtractReason
from fetching.memento import MementoOutcome
from fetching.records import Outcome
from storage.outcomes import (
    CitationReason,
    DedupReason,
    DocumentReason,
    FetchSkip,
    PassageReason,
    QuoteReason,
    RunStatus,
    Stage,
    Step,
    VersionReason,
)
from storage.schema import MIGRATIONS, RUN_COUNTS, STEP_FAILURES, View, migrate

ROOT = Path(__file__).resolve().parents[2]

# Each stage's reasons. A seed's reason is its status ('ok', 'skipped'), then for a
# skipped or cut seed ': ' and its reason codes: free text, which no view reads by name.
REASONS: Mapping[Stage, tuple[type[StrEnum], ...]] = {
    Stage.SEEDS: (),
    Stage.CITATIONS: (CitationReason,),
    Stage.FETCH: (Outcome, FetchSkip),
    Stage.EXTRACT: (ExtractReason,),
    Stage.DOCUMENTS: (DocumentReason,),
    Stage.DEDUP: (DedupReason,),
    Stage.PASSAGES: (PassageReason,),
    Stage.ERRORS: (Step,),
    Stage.VERSIONS: (VersionReason,),
    Stage.MEMENTO: (MementoOutcome, Outcome),
    Stage.QUOTES: (QuoteReason,),
}
SEED_REASONS = ("ok", "ok: truncated, url_cap", "skipped: not_found")

# What run_summary makes of them, stated with the enums.
FETCHED = {Outcome.OK, Outcome.NOT_MODIFIED}
CHANGED = {DocumentReason.SEED_CHANGED, DocumentReason.PAGE_CHANGED}
# Literals of run_summary that are not stage or reason names.
RUN_STATUSES = {s.value for s in RunStatus}
SQL_WORDS = {"millisecond", ":", "=", ", "}


def reasons(stage: Stage) -> set[str]:
    """Every reason the code counts under `stage`."""
    return {member.value for kind in REASONS[stage] for member in kind}


def latest_view(name: str) -> View:
    """The view as the last migration that (re)creates it defines it."""
    return [v for m in MIGRATIONS for v in m.views if v.name == name][-1]


def literals(sql: str) -> list[str]:
    """The SQL string literals in `sql` ('' escapes a quote)."""
    return [m.replace("''", "'") for m in re.findall(r"'((?:[^']|'')*)'", sql)]


_STAGE = re.compile(r"\bstage\s*=\s*'(\w+)'|'(\w+)'\s+AS\s+stage\b")
_REASON = re.compile(
    r"\bstage\s*=\s*'(\w+)'\s+AND\s+reason\s*(?:=|<>|IN)\s*(\([^)]*\)|'\w+')", re.IGNORECASE
)
_OUTCOME = re.compile(r"\boutcome\s+(?:NOT\s+)?IN\s*\(([^)]*)\)", re.IGNORECASE)


def named_stages(sql: str) -> set[str]:
    """Stages the SQL compares `stage` with, or produces as a stage."""
    return {a or b for a, b in _STAGE.findall(sql)}


def named_reasons(sql: str) -> set[tuple[str, str]]:
    """(stage, reason) pairs the SQL compares a reason with, within that stage."""
    return {(stage, r) for stage, part in _REASON.findall(sql) for r in literals(part)}


def named_outcomes(sql: str) -> set[str]:
    """Fetch outcomes the SQL compares an `outcome` column with."""
    return {o for part in _OUTCOME.findall(sql) for o in literals(part)}


def test_every_stage_has_its_reasons_declared() -> None:
    assert set(REASONS) == set(Stage)
    assert reasons(Stage.ERRORS) == {s.value for s in Step}


@pytest.mark.parametrize("name", ["run_summary", "fetch_failures"])
def test_the_views_name_only_stages_and_reasons_the_code_counts(name: str) -> None:
    sql = latest_view(name).select
    stages, pairs, outcomes = named_stages(sql), named_reasons(sql), named_outcomes(sql)
    assert stages <= {s.value for s in Stage}
    assert [(s, r) for s, r in pairs if r not in reasons(Stage(s))] == []
    assert outcomes <= {o.value for o in Outcome}
    # Nothing the patterns above missed: every literal of the view is accounted for.
    known = stages | {r for _, r in pairs} | outcomes | RUN_STATUSES | SQL_WORDS
    assert set(literals(sql)) - known == set()
    if name == "run_summary":  # the patterns do find what the view reads
        assert {"seeds", "citations", "documents", "dedup", "extract", "errors", "fetch"} <= stages
        assert ("documents", "page_changed") in pairs
        assert outcomes == FETCHED


def test_storage_sql_names_only_known_outcomes_and_stages() -> None:
    """Every SQL fragment in storage/ (stores, reports, schema) that names an outcome or stage."""
    for path in sorted((ROOT / "storage").glob("*.py")):
        text = path.read_text()
        assert named_outcomes(text) <= {o.value for o in Outcome}, path
        assert named_stages(text) <= {s.value for s in Stage}, path
        assert [p for p in named_reasons(text) if p[1] not in reasons(Stage(p[0]))] == [], path


_STATUS = re.compile(r"\bstatus\s*(?:=|<>|IN)\s*(\([^)]*\)|'\w+')", re.IGNORECASE)


def test_storage_sql_names_only_run_statuses_the_code_sets() -> None:
    """`runs.status` literals in storage/ SQL (stores and views) are RunStatus values."""
    found: set[str] = set()
    for path in sorted((ROOT / "storage").glob("*.py")):
        named = {s for part in _STATUS.findall(path.read_text()) for s in literals(part)}
        assert named <= RUN_STATUSES, (path, named - RUN_STATUSES)
        found |= named
    assert {"running", "completed", "completed_with_errors", "interrupted", "timed_out"} <= found


def test_the_column_comments_name_stages_and_steps() -> None:
    stage = {name: text for name, _, text in RUN_COUNTS.columns}["stage"]
    assert set(literals(stage)) <= {s.value for s in Stage}
    step = {name: text for name, _, text in STEP_FAILURES.columns}["stage"]
    assert set(literals(step)) == {s.value for s in Step}


def test_run_summary_reads_every_reason_the_code_counts() -> None:
    """One run_counts row for every (stage, reason), one final fetch per outcome: the view's
    columns add up what the enums say they should."""
    con = duckdb.connect()
    migrate(con)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    con.execute("INSERT INTO runs VALUES ('r', ?, ?, 'completed', '{}', NULL)", [at, at])
    rows = [(stage, r) for stage in Stage for r in sorted(reasons(stage))]
    rows += [(Stage.SEEDS, r) for r in SEED_REASONS]
    counts = {row: n for n, row in enumerate(rows, start=1)}
    con.executemany(
        "INSERT INTO run_counts VALUES ('r', ?, ?, ?)", [[s, r, n] for (s, r), n in counts.items()]
    )
    for outcome in Outcome:
        for attempt, final in ((1, False), (2, True)):  # a retry: only the final one counts
            con.execute(
                "INSERT INTO fetches (run_id, url, attempt, fetched_at, outcome, is_final) "
                "VALUES ('r', ?, ?, ?, ?, ?)", [f"https://x/{outcome}", attempt, at, outcome, final]
            )
    got = con.execute(
        "SELECT seeds, citations, urls_fetched, fetched_ok, fetch_failed, documents_changed, "
        "clusters, problems, counts FROM run_summary"
    ).fetchall()

    def of(stage: Stage, among: set[str] | None = None) -> int:
        return sum(n for (s, r), n in counts.items() if s == stage and (among is None or r in among))

    problems = [f"fetch:{o}=1" for o in Outcome if o not in FETCHED]
    problems += [f"{s}:{r}={n}" for (s, r), n in counts.items()
                 if (s == Stage.EXTRACT and r != ExtractReason.OK) or s == Stage.ERRORS]
    assert len(got) == 1
    seeds, citations, fetched, ok, failed, changed, clusters, problem_text, count_text = got[0]
    assert (seeds, citations, clusters) == (
        of(Stage.SEEDS), of(Stage.CITATIONS, {CitationReason.FOUND}),
        of(Stage.DEDUP, {DedupReason.CLUSTERS}),
    )
    assert (fetched, ok, failed) == (len(Outcome), len(FETCHED), len(Outcome) - len(FETCHED))
    assert changed == of(Stage.DOCUMENTS, set(CHANGED))
    assert sorted(problem_text.split(", ")) == sorted(problems)
    assert count_text == ", ".join(f"{s}:{r}={n}" for (s, r), n in sorted(counts.items()))


# --- no bare string where the code counts a stage or reason -------------------------------

# Calls whose stage and reason arguments must be enum members, not string literals.
_COUNTING_CALLS = {"bump", "ids", "isolate", "guarded", "BatchReport", "StepFailure"}


def bare_names(source: str) -> Iterator[tuple[int, str]]:
    """(line, literal) of each string literal given as a stage or reason in `source`."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and _name(node.value).endswith("counts"):
            targets: list[ast.AST] = [node.slice]
        elif isinstance(node, ast.Call) and (
            _name(node.func) in _COUNTING_CALLS
            or (_name(node.func) == "count" and "summary" in _name(_receiver(node.func)))
        ):
            targets = [*node.args, *(k.value for k in node.keywords)]
        else:
            continue
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Constant) and isinstance(leaf.value, str):
                    yield leaf.lineno, leaf.value


def counting_sites(source: str) -> int:
    """How many counting subscripts and calls `source` has (to show the scan sees them)."""
    return sum(
        1 for node in ast.walk(ast.parse(source))
        if (isinstance(node, ast.Subscript) and _name(node.value).endswith("counts"))
        or (isinstance(node, ast.Call) and _name(node.func) in _COUNTING_CALLS)
    )


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _receiver(node: ast.AST) -> ast.AST:
    return node.value if isinstance(node, ast.Attribute) else node


def _sources() -> Iterator[Path]:
    for folder in ("pipeline", "flows", "cli", "storage", "deployments"):
        yield from sorted((ROOT / folder).rglob("*.py"))


def test_the_code_counts_with_enum_members_only() -> None:
    found = [(str(p.relative_to(ROOT)), line, text)
             for p in _sources() for line, text in bare_names(p.read_text())]
    assert found == []
    assert sum(counting_sites(p.read_text()) for p in _sources()) >= 15


def test_the_scan_finds_bare_names() -> None:
    source = (
        'counts["fetch", str(outcome)] += 1\n'
        'tally.bump(Stage.FETCH, "skipped_fresh", 2)\n'
        'BatchReport(((Stage.DEDUP, "clusters", n),))\n'
        'isolate(rows, work, "passages", key, failures)\n'
        'summary.count("errors")\n'
        'text.count("x")\n'
    )
    assert [text for _, text in sorted(bare_names(source))] == [
        "fetch", "skipped_fresh", "clusters", "passages", "errors"
    ]
