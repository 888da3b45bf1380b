"""What changed between two versions of a page: paragraphs added and removed, a diff.

Texts are one paragraph per line (extractors.passages), so a unified diff by line is a
diff by paragraph, the unit NewsDiffs and diffengine show. Similarity is the exact
Jaccard of the word 5-gram shingles, the measure dedup uses (dedup.verify), so a change
and a near duplicate speak the same number.
"""

import difflib
from collections import Counter
from dataclasses import dataclass

from dedup import jaccard, shingle_hash_sets

# Lines of context around each changed paragraph in the stored diff.
_CONTEXT = 1


@dataclass(frozen=True, slots=True)
class Change:
    """How the text of a page changed from `before` to `after`."""

    paragraphs_added: int
    paragraphs_removed: int
    similarity: float
    diff: str


def describe_change(before: str, after: str, before_name: str, after_name: str) -> Change:
    """The paragraphs added and removed, the shingle Jaccard and a unified paragraph diff."""
    old, new = _paragraphs(before), _paragraphs(after)
    # Multisets: a paragraph only moved is neither added nor removed.
    added = sum((Counter(new) - Counter(old)).values())
    removed = sum((Counter(old) - Counter(new)).values())
    a, b = shingle_hash_sets([before, after])
    similarity = 1.0 if before == after else jaccard(a, b)
    diff = "\n".join(difflib.unified_diff(
        old, new, before_name, after_name, n=_CONTEXT, lineterm=""
    ))
    return Change(added, removed, similarity, diff)


def _paragraphs(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]
