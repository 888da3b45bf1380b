"""Address guard: the classifier, URL checks, and pinning of the checked address."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from fetching import (
    FetchConfig,
    Fetcher,
    FetchRequest,
    Outcome,
    SystemResolver,
    blocked_reason,
    make_client,
)
from fetching.errors import (
    BlockedAddressError,
    BlockedCredentialsError,
    BlockedPortError,
    BlockedSchemeError,
    DNSError,
    InvalidURLError,
)
from fetching.guard import resolve_checked
from fetching.target import check_url
from tests.fetching.conftest import PUBLIC_IP, FakeResolver, Harness, LoopbackBackend

BLOCKED = [
    "0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.254",
    "127.0.0.1", "127.1.2.3", "169.254.0.1", "169.254.169.254", "172.16.0.1",
    "172.31.255.255", "192.0.0.8", "192.0.2.1", "192.88.99.1", "192.168.0.1",
    "192.168.255.255", "198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9",
    "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
    # IPv6
    "::", "::1", "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "::ffff:0.0.0.0", "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b:1::1", "100::1",
    "2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:2::1", "2001:db8::1",
    "2002:7f00:1::1", "2002:a00:1::1", "2002:c0a8:101::1", "3fff::1", "fc00::1",
    "fd00:ec2::254", "fe80::1", "fec0::1", "ff02::1", "ff05::1:3", "4000::1", "e000::1",
]
ALLOWED = [
    "1.1.1.1", "8.8.8.8", "93.184.216.34", "100.63.255.255", "100.128.0.1", "172.15.255.255",
    "172.32.0.1", "192.167.255.255", "192.169.0.1", "198.17.255.255", "198.20.0.1",
    "223.255.255.255", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
]


@pytest.mark.parametrize("address", BLOCKED)
def test_classifier_blocks(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ALLOWED)
def test_classifier_allows_public_unicast(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


def test_classifier_names_the_metadata_service() -> None:
    reason = blocked_reason(ipaddress.ip_address("169.254.169.254"))
    assert reason is not None and "metadata" in reason


def test_classifier_explains_embedded_ipv4() -> None:
    reason = blocked_reason(ipaddress.ip_address("::ffff:127.0.0.1"))
    assert reason is not None and "loopback" in reason


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://example.com/file", BlockedSchemeError),
        ("file:///etc/passwd", BlockedSchemeError),
        ("gopher://example.com:70/", BlockedSchemeError),
        ("javascript:alert(1)", BlockedSchemeError),
        ("http://user:secret@example.com/", BlockedCredentialsError),
        ("http://user@example.com/", BlockedCredentialsError),
        ("http://example.com:22/", BlockedPortError),
        ("https://example.com:6379/", BlockedPortError),
        ("http:///nohost", InvalidURLError),
        ("http://exa mple.com/", InvalidURLError),
        ("http://[::1/", InvalidURLError),
    ],
)
def test_url_checks_refuse(url: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        check_url(url, (80, 443, 8080, 8443))


@pytest.mark.parametrize(
    "url",
    ["http://example.com/", "https://example.com:443/x", "http://example.com:8080/",
     "https://Bücher.example/x#frag"],
)
def test_url_checks_accept(url: str) -> None:
    target = check_url(url, (80, 443, 8080, 8443))
    assert target.url.fragment == ""
    assert target.port in (80, 443, 8080)


def test_any_port_when_allowed_ports_is_none() -> None:
    assert check_url("http://example.com:1234/", None).port == 1234


@pytest.mark.anyio
async def test_any_private_answer_refuses_the_host() -> None:
    resolver = FakeResolver({"mixed.test": [PUBLIC_IP, "10.1.1.1"]})
    with pytest.raises(BlockedAddressError):
        await resolve_checked("mixed.test", 80, resolver, allow_private=False, timeout=1)


@pytest.mark.anyio
async def test_allow_private_lifts_only_the_address_check() -> None:
    resolver = FakeResolver({"lan.test": ["10.1.1.1"]})
    found = await resolve_checked("lan.test", 80, resolver, allow_private=True, timeout=1)
    assert [str(a) for a in found] == ["10.1.1.1"]
    with pytest.raises(BlockedPortError):
        check_url("http://lan.test:22/", FetchConfig(allow_private_addresses=True).allowed_ports)


@pytest.mark.anyio
async def test_system_resolver_localhost_is_blocked() -> None:
    # localhost comes from /etc/hosts: the real getaddrinfo path, no network needed.
    with pytest.raises(BlockedAddressError):
        await resolve_checked("localhost", 80, SystemResolver(), allow_private=False, timeout=2)


@pytest.mark.anyio
async def test_system_resolver_unknown_name_is_dns_error() -> None:
    with pytest.raises(DNSError):
        await resolve_checked(
            "no-such-host.invalid", 80, SystemResolver(), allow_private=False, timeout=2
        )


@pytest.mark.anyio
@pytest.mark.parametrize(
    "host", ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "2130706433", "0x7f.1", "0"]
)
async def test_loopback_spellings_are_blocked(harness: Harness, host: str) -> None:
    harness.resolver.answers.update({"2130706433": ["127.0.0.1"], "0x7f.1": ["127.0.0.1"],
                                     "0": ["0.0.0.0"]})
    result = await harness.fetch(f"http://{host}:{harness.server.port}/ok")
    assert result.outcome is Outcome.BLOCKED_ADDRESS
    assert result.attempts[0].status_code is None
    assert harness.backend.connects == []


@pytest.mark.anyio
async def test_guard_off_reaches_the_local_server(harness: Harness) -> None:
    url = f"http://127.0.0.1:{harness.server.port}/ok"
    assert (await harness.fetch(url, allow_private_addresses=True)).outcome is Outcome.OK


@pytest.mark.anyio
async def test_blocked_port_scheme_credentials_through_fetcher(harness: Harness) -> None:
    ports = (80, 443)
    assert (await harness.fetch("http://site.test:8080/", allowed_ports=ports)).outcome is (
        Outcome.BLOCKED_PORT
    )
    assert (await harness.fetch("ftp://site.test/")).outcome is Outcome.BLOCKED_ADDRESS
    assert (await harness.fetch("http://a:b@site.test/")).outcome is Outcome.BLOCKED_CREDENTIALS
    assert (await harness.fetch("not a url")).outcome in (
        Outcome.INVALID_URL, Outcome.BLOCKED_ADDRESS
    )


@pytest.mark.anyio
async def test_connection_goes_to_the_checked_address_even_if_dns_changes(
    harness: Harness,
) -> None:
    # First answer public (checked, pinned), any later answer loopback: a rebinding attack.
    harness.resolver.answers["rebind.test"] = [[PUBLIC_IP], ["127.0.0.1"]]
    url = harness.server.url("/ok", host="rebind.test")
    result = await harness.fetch(url, respect_robots=False)
    assert result.outcome is Outcome.OK
    assert harness.resolver.calls == ["rebind.test"]  # the transport did not ask again
    assert harness.backend.connects == [(PUBLIC_IP, harness.server.port)]


@pytest.mark.anyio
async def test_rebinding_answer_on_the_next_check_is_refused(harness: Harness) -> None:
    # The page's check gets a public answer, the robots.txt check then gets loopback:
    # a host seen answering a private address is off-limits for the run.
    harness.resolver.answers["rebind2.test"] = [[PUBLIC_IP], ["127.0.0.1"]]
    result = await harness.fetch(harness.server.url("/ok", host="rebind2.test"))
    assert result.outcome is Outcome.BLOCKED_ADDRESS
    assert harness.resolver.calls == ["rebind2.test", "rebind2.test"]
    assert harness.backend.connects == []


@pytest.mark.anyio
async def test_client_alone_checks_addresses_itself(harness: Harness) -> None:
    resolver = FakeResolver({"lan.test": ["192.168.0.10"]})
    backend = LoopbackBackend()
    config = harness.config()
    async with make_client(config, resolver=resolver, network_backend=backend) as client:
        with pytest.raises(BlockedAddressError):
            await client.get(harness.server.url("/ok", host="lan.test"))
        response = await client.get(harness.server.url("/ok", host="public.test"))
    assert response.status_code == 200
    assert backend.connects == [(PUBLIC_IP, harness.server.port)]


def test_make_client_settings() -> None:
    config = FetchConfig(concurrency=7, connect_timeout=3, read_timeout=4, total_timeout=9)
    client = make_client(config)
    assert client.follow_redirects is False
    assert client.headers["user-agent"] == config.user_agent
    assert client.timeout == httpx.Timeout(connect=3, read=4, write=4, pool=9)
    assert client.trust_env is False


@pytest.mark.anyio
async def test_production_wiring_reaches_localhost_only_when_private_is_allowed(
    harness: Harness,
) -> None:
    # Default backend and the system resolver: the path the nightly flow takes.
    url = f"http://localhost:{harness.server.port}/ok"
    for allow, expected in ((False, Outcome.BLOCKED_ADDRESS), (True, Outcome.OK)):
        config = FetchConfig(allow_private_addresses=allow, allowed_ports=None, per_host_delay=0)
        async with make_client(config) as client:
            result = await Fetcher(config, client).fetch(FetchRequest(url))
        assert result.outcome is expected, result.error
