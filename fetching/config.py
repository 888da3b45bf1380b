"""Typed fetch parameters, passed in by the caller (no globals, no environment)."""

from dataclasses import dataclass

DEFAULT_USER_AGENT = "recite/0.1 (+https://github.com/recite/recite; nightly citation archiver)"


@dataclass(frozen=True, slots=True)
class FetchConfig:
    """Limits, politeness and safety settings for one run of the fetcher.

    Timeouts are in seconds: `connect_timeout` and `read_timeout` bound each network
    operation; `total_timeout` caps one attempt (all its redirect hops, headers and
    body), so a server that drips bytes ends as `timeout` instead of hanging.
    `allow_private_addresses` lifts only the address-class check of the guard;
    schemes, credentials and ports are still checked.
    """

    user_agent: str = DEFAULT_USER_AGENT
    concurrency: int = 16
    per_host_concurrency: int = 2
    per_host_delay: float = 1.0
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    max_attempts: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_cap: float = 120.0
    respect_robots: bool = True
    allow_private_addresses: bool = False
    # Ports a URL may name; None allows any port (the tests' local server needs it).
    allowed_ports: tuple[int, ...] | None = (80, 443, 8080, 8443)
