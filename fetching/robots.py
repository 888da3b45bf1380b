"""robots.txt (RFC 9309): parsing, matching for recite's product token, a per-run cache.

Own parser rather than `urllib.robotparser`: the standard library applies the
first matching rule in file order and knows neither `*` nor `$`, while RFC 9309
§2.2.2 asks for the longest match, with Allow winning a tie.
"""

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fetching.errors import FetchError

# RFC 9309 §2.5: crawlers must parse at least 500 KiB; we read no more than that.
MAX_ROBOTS_BYTES = 500 * 1024
# Crawl-delay is not in RFC 9309; honour it, but a robots.txt asking for hours
# between requests would stall the run, so it is capped.
CRAWL_DELAY_CAP = 30.0

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_TOKEN = re.compile(r"[A-Za-z_-]+")


# Rules kept per robots.txt. Every URL check tries each kept rule, so a file of 100,000
# rules would cost every fetch of its host milliseconds; real files have hundreds. The
# rules past the cap are dropped (and said so in the note), keeping the first ones.
MAX_RULES = 10_000


@dataclass(frozen=True, slots=True)
class PathPattern:
    """A robots.txt path pattern: literal parts between `*`s, `$` anchoring the end.

    Matched in time linear in pattern plus path (issue 17), not by a regex: `.*` per `*`
    backtracks, and `/*a*a*a*a*a*a*a*a*a*a*a*a*a*a$` against `/aaaa...ab` took seconds.
    Each part after the first is found at its leftmost place after the previous one; a
    later part can only gain from an earlier place, so leftmost is never wrong, and each
    search starts where the last ended. With `$` the last part must end the path, which
    is the same as matching it at the end when the parts before end early enough.
    """

    parts: tuple[str, ...]
    anchored: bool

    @classmethod
    def compile(cls, pattern: str) -> "PathPattern":
        """The pattern of an Allow or Disallow value, percent-encoding normalized."""
        anchored = pattern.endswith("$")
        body = pattern[:-1] if anchored else pattern
        return cls(tuple(normalize_path(body).split("*")), anchored)

    def matches(self, path: str) -> bool:
        """True if the pattern matches `path` from its start (RFC 9309 §2.2.3)."""
        first, *rest = self.parts
        if not path.startswith(first):
            return False
        if not rest:
            return not self.anchored or len(path) == len(first)
        at = len(first)
        middle, last = rest[:-1], rest[-1]
        for part in middle:
            found = path.find(part, at)
            if found < 0:
                return False
            at = found + len(part)
        if self.anchored:
            return len(path) - len(last) >= at and path.endswith(last)
        return path.find(last, at) >= 0


@dataclass(frozen=True, slots=True)
class Rule:
    """One Allow or Disallow line, with its pattern compiled."""

    allow: bool
    pattern: str
    path_pattern: PathPattern


@dataclass(frozen=True, slots=True)
class RobotsRules:
    """The rules of one robots.txt that apply to recite."""

    rules: tuple[Rule, ...] = ()
    crawl_delay: float | None = None
    disallow_all: bool = False
    note: str = ""
    # Set when robots.txt could not be fetched at all (network): the page fails
    # with this error class instead of a misleading robots_denied.
    failure: type[FetchError] | None = None

    def allowed(self, path: str) -> bool:
        """True if `path` (path and query) may be fetched (RFC 9309 §2.2.2)."""
        if path == "/robots.txt":
            return True  # implicitly allowed, RFC 9309 §2.2.2
        if self.disallow_all:
            return False
        target = normalize_path(path or "/")
        best: Rule | None = None
        for rule in self.rules:
            if not rule.path_pattern.matches(target):
                continue
            if best is None or _beats(rule, best):
                best = rule
        return best is None or best.allow


ALLOW_ALL = RobotsRules(note="no robots.txt (4xx): everything allowed")


def unreachable(reason: str, failure: type[FetchError] | None = None) -> RobotsRules:
    """Rules for a robots.txt that could not be fetched: disallow all (RFC 9309 §2.3.1.4)."""
    return RobotsRules(disallow_all=True, note=f"robots.txt unreachable: {reason}", failure=failure)


def _beats(rule: Rule, best: Rule) -> bool:
    """Longest pattern wins; on equal length Allow wins (RFC 9309 §2.2.2)."""
    if len(rule.pattern) != len(best.pattern):
        return len(rule.pattern) > len(best.pattern)
    return rule.allow and not best.allow


def agent_token(user_agent: str) -> str:
    """The product token of a User-Agent string ("recite/0.1 (...)" → "recite")."""
    match = _TOKEN.match(user_agent.strip())
    return match.group(0).lower() if match else user_agent.strip().lower()


def normalize_path(path: str) -> str:
    """Percent-encode non-ASCII, decode escaped unreserved octets (RFC 3986 §6.2.2)."""
    encoded = path if path.isascii() else "".join(ch if ch.isascii() else _pct(ch) for ch in path)
    if "%" not in encoded:
        return encoded  # the common case, without a pass per character

    def fix(match: re.Match[str]) -> str:
        octet = int(match.group(1), 16)
        return chr(octet) if octet in _UNRESERVED else f"%{octet:02X}"

    return _PERCENT.sub(fix, encoded)


def _pct(ch: str) -> str:
    """UTF-8 percent-encoding of one character."""
    return "".join(f"%{b:02X}" for b in ch.encode("utf-8"))


@dataclass(slots=True)
class _Group:
    """One group while parsing: its user agents and its lines."""

    agents: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    crawl_delay: float | None = None


def parse_robots(text: str, token: str) -> RobotsRules:
    """The rules of `text` that apply to product token `token` (RFC 9309 §2.2)."""
    # A UTF-8 byte order mark would make the first line "\ufeffuser-agent" (issue 17).
    groups = _groups(text.removeprefix("\ufeff"))
    token = token.lower()
    mine = [g for g in groups if token in g.agents]
    chosen = mine or [g for g in groups if "*" in g.agents]
    rules = tuple(rule for group in chosen for rule in group.rules)
    delays = [g.crawl_delay for g in chosen if g.crawl_delay is not None]
    note = ""
    if len(rules) > MAX_RULES:
        note = f"{len(rules)} rules: only the first {MAX_RULES} kept"
        rules = rules[:MAX_RULES]
    return RobotsRules(rules=rules, crawl_delay=max(delays) if delays else None, note=note)


def _groups(text: str) -> list[_Group]:
    """Split robots.txt into groups; consecutive user-agent lines share one group."""
    groups: list[_Group] = []
    current: _Group | None = None
    in_rules = False
    for key, value in _lines(text):
        if key == "user-agent":
            if current is None or in_rules:
                current = _Group()
                groups.append(current)
                in_rules = False
            current.agents.append(_agent(value))
        elif current is not None and key in ("allow", "disallow"):
            in_rules = True
            if value:  # an empty Disallow means "nothing disallowed": no rule
                current.rules.append(Rule(key == "allow", value, PathPattern.compile(value)))
        elif current is not None and key == "crawl-delay":
            in_rules = True
            current.crawl_delay = _float(value)
    return groups


def _agent(value: str) -> str:
    """The product token a user-agent line names, lower-case; "*" for the wildcard."""
    if value.startswith("*"):
        return "*"
    match = _TOKEN.match(value)
    return match.group(0).lower() if match else value.lower()


def _lines(text: str) -> list[tuple[str, str]]:
    """(lower-case key, value) of each `key: value` line, comments removed."""
    pairs = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        key, sep, value = line.partition(":")
        if sep:
            pairs.append((key.strip().lower().replace(" ", "-").replace("_", "-"), value.strip()))
    return pairs


def _float(value: str) -> float | None:
    """A non-negative number, or None if `value` is not one."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number >= 0 and number == number else None  # reject NaN


RobotsLoader = Callable[[str], Awaitable[RobotsRules]]


class RobotsCache:
    """robots.txt rules per origin, each fetched once per run even under concurrency."""

    def __init__(self, loader: RobotsLoader) -> None:
        self._loader = loader
        self._rules: dict[str, RobotsRules] = {}
        self._pending: dict[str, asyncio.Task[RobotsRules]] = {}

    async def rules(self, origin: str) -> RobotsRules:
        """Rules of `origin` (scheme://host:port), loading them on first use."""
        found = self._rules.get(origin)
        if found is not None:
            return found
        task = self._pending.get(origin)
        if task is None:
            task = asyncio.ensure_future(self._loader(origin))
            self._pending[origin] = task
            task.add_done_callback(lambda done: self._settle(origin, done))
        # Shield: one waiter being cancelled must not cancel the shared fetch.
        return await asyncio.shield(task)

    def _settle(self, origin: str, task: "asyncio.Task[RobotsRules]") -> None:
        """Keep the loaded rules, not the task: a done task keeps its context alive."""
        del self._pending[origin]
        if not task.cancelled() and task.exception() is None:
            self._rules[origin] = task.result()
