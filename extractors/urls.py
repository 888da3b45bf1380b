"""URL normalization: the one function that decides a URL's identity in the frontier."""

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

import courlan

# Characters that end a sentence around a URL rather than belong to it.
_TRAILING = ".,;:!?'\"”’»›…"
_PAIRS = {")": "(", "]": "[", "}": "{", ">": "<"}
# A host: DNS labels (Unicode allowed, IDNA is the fetcher's business), IPv4, or [IPv6].
_HOST = re.compile(r"[^\s/\\?#@:\[\]%<>\"'`{}|^]+|[0-9a-f:.]+", re.IGNORECASE)


class InvalidUrl(ValueError):
    """The text is not an absolute http(s) URL we can fetch."""


def strip_trailing_punctuation(raw: str) -> str:
    """Drop sentence punctuation after a URL, keeping balanced brackets (Wikipedia-style)."""
    url = raw.strip()
    # Bracket counts kept up to date as the end moves, not recounted per character: a
    # URL ending in thousands of ")" would otherwise cost quadratic time (issue 17).
    counts = {ch: url.count(ch) for pair in _PAIRS.items() for ch in pair}
    end = len(url)
    while end:
        last = url[end - 1]
        if last in _TRAILING or (last in _PAIRS and counts[last] > counts[_PAIRS[last]]):
            end -= 1
            if last in counts:
                counts[last] -= 1
        else:
            break
    return url[:end]


def normalize_url(raw: str, base: str | None = None) -> str:
    """Return the normalized absolute form of `raw`, or raise `InvalidUrl`.

    Normalizing a normalized URL returns it unchanged (the frontier key is a fixed point).
    """
    try:
        url = _normalize_once(raw, base)
        for _ in range(3):
            again = _normalize_once(url, None)
            if again == url:
                return url
            url = again
    except (ValueError, UnicodeError) as exc:
        raise InvalidUrl(str(exc) or "malformed URL") from exc
    raise InvalidUrl("URL does not settle under normalization")


def _normalize_once(raw: str, base: str | None) -> str:
    text = raw.strip().replace(" ", "%20")
    if base is not None:
        text = urljoin(base, text)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if not scheme or not scheme.isascii() or not scheme.replace("+", "").isalnum():
        raise InvalidUrl("no scheme")
    if scheme not in ("http", "https"):
        # Kept as a citation so the fetcher's guard records it as refused, not dropped.
        return urlunsplit((scheme, parts.netloc.lower(), parts.path, parts.query, ""))
    if not parts.hostname or not _HOST.fullmatch(parts.hostname):
        raise InvalidUrl("no valid host")
    _ = parts.port  # raises ValueError for a port that is not a number in 0-65535
    # Dot segments resolved per RFC 3986 §5.2.4; fragments never reach the server (§3.5).
    resolved = urljoin(f"{scheme}://{parts.netloc}/", parts.path or "/")
    rebuilt = urlunsplit(urlsplit(resolved)._replace(query=parts.query, fragment=""))
    # Non-strict mode sorts the query and drops trackers (utm_*, fbclid, ...) but keeps
    # parameters that may select content (strict mode dropped YouTube's ?t=).
    return str(courlan.normalize_url(rebuilt, strict=False))
