"""Address guard against server-side request forgery: resolve, classify, refuse.

Seeds are untrusted text, so a cited URL may point at the machine itself, the
LAN or a cloud metadata service. The guard resolves the host once, refuses it if
ANY answer is not a public unicast address, and returns the checked addresses;
the client then connects to exactly those (see `client.py`), so a DNS answer that
changes between check and connect (DNS rebinding) cannot slip through.

The tables follow the IANA special-purpose address registries (RFC 6890 and
updates) rather than `ipaddress.is_global`, whose answers changed between
Python releases (e.g. CVE-2024-4032 for IPv4-mapped addresses).
"""

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from typing import Protocol

from fetching.errors import BlockedAddressError, DNSError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# (network, reason); first match wins, so narrower entries come first.
_IPV4_BLOCKED: tuple[tuple[_V4, str], ...] = (
    (_V4("0.0.0.0/8"), "unspecified ('this network', RFC 791)"),
    (_V4("10.0.0.0/8"), "private (RFC 1918)"),
    (_V4("100.64.0.0/10"), "shared address space / CGNAT (RFC 6598)"),
    (_V4("127.0.0.0/8"), "loopback (RFC 1122)"),
    (_V4("169.254.169.254/32"), "cloud metadata service (link-local)"),
    (_V4("169.254.0.0/16"), "link-local (RFC 3927)"),
    (_V4("172.16.0.0/12"), "private (RFC 1918)"),
    (_V4("192.0.0.0/24"), "IETF protocol assignments (RFC 6890)"),
    (_V4("192.0.2.0/24"), "documentation TEST-NET-1 (RFC 5737)"),
    (_V4("192.88.99.0/24"), "6to4 relay anycast (RFC 7526)"),
    (_V4("192.168.0.0/16"), "private (RFC 1918)"),
    (_V4("198.18.0.0/15"), "benchmarking (RFC 2544)"),
    (_V4("198.51.100.0/24"), "documentation TEST-NET-2 (RFC 5737)"),
    (_V4("203.0.113.0/24"), "documentation TEST-NET-3 (RFC 5737)"),
    (_V4("224.0.0.0/4"), "multicast (RFC 5771)"),
    (_V4("255.255.255.255/32"), "broadcast (RFC 919)"),
    (_V4("240.0.0.0/4"), "reserved (RFC 1112)"),
)

_IPV6_BLOCKED: tuple[tuple[_V6, str], ...] = (
    (_V6("::/128"), "unspecified (RFC 4291)"),
    (_V6("::1/128"), "loopback (RFC 4291)"),
    (_V6("::/96"), "IPv4-compatible, deprecated (RFC 4291)"),
    (_V6("64:ff9b:1::/48"), "local-use NAT64 (RFC 8215)"),
    (_V6("100::/64"), "discard-only (RFC 6666)"),
    (_V6("2001::/23"), "IETF protocol assignments incl. Teredo (RFC 2928, 4380)"),
    (_V6("2001:db8::/32"), "documentation (RFC 3849)"),
    (_V6("3fff::/20"), "documentation (RFC 9637)"),
    (_V6("fc00::/7"), "unique local / private (RFC 4193)"),
    (_V6("fe80::/10"), "link-local (RFC 4291)"),
    (_V6("fec0::/10"), "site-local, deprecated (RFC 3879)"),
    (_V6("ff00::/8"), "multicast (RFC 4291)"),
)

# Prefixes that embed an IPv4 address in the low 32 bits: judge the embedded one.
_NAT64 = _V6("64:ff9b::/96")  # RFC 6052 well-known prefix
_GLOBAL_UNICAST = _V6("2000::/3")  # RFC 4291 §2.4: all else is unassigned/special


def blocked_reason(address: IPAddress) -> str | None:
    """Why `address` must not be contacted, or None if it is public unicast."""
    if isinstance(address, ipaddress.IPv4Address):
        return _table_reason(address, _IPV4_BLOCKED)
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        inner = blocked_reason(embedded)
        return None if inner is None else f"{inner}, embedded in {address}"
    reason = _table_reason(address, _IPV6_BLOCKED)
    if reason is None and address not in _GLOBAL_UNICAST:
        return "reserved IPv6 (outside 2000::/3, RFC 4291)"
    return reason


def _table_reason(address: IPAddress, table: Sequence[tuple[_V4 | _V6, str]]) -> str | None:
    """Reason of the first table network containing `address`."""
    for network, reason in table:
        if address in network:
            return reason
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried by an IPv4-mapped, NAT64 or 6to4 IPv6 address."""
    if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d (RFC 4291 §2.5.5.2)
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour  # 2002:abcd:... (RFC 3056), None otherwise


def parse_ip(host: str) -> IPAddress | None:
    """The host as an IP address if it is a literal (IPv6 without brackets), else None."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


class Resolver(Protocol):
    """Turns a host name into addresses (injectable so tests need no DNS)."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """All addresses of `host`, in the order to try them; raises DNSError."""
        ...


class SystemResolver:
    """The system resolver through the event loop's non-blocking getaddrinfo."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """All addresses getaddrinfo returns for `host`, deduplicated, in order."""
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except (socket.gaierror, UnicodeError) as exc:
            raise DNSError(f"cannot resolve {host!r}: {exc}") from exc
        found: list[IPAddress] = []
        for _family, _type, _proto, _canon, sockaddr in infos:
            address = parse_ip(str(sockaddr[0]))
            if address is not None and address not in found:
                found.append(address)
        if not found:
            raise DNSError(f"no address for {host!r}")
        return found


async def resolve_checked(
    host: str,
    port: int,
    resolver: Resolver,
    *,
    allow_private: bool,
    timeout: float,
) -> tuple[IPAddress, ...]:
    """Resolve `host` and refuse it if any answer is non-public; return the answers."""
    literal = parse_ip(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolver.resolve(host, port)
        except TimeoutError as exc:
            raise DNSError(f"resolving {host!r} timed out after {timeout:g}s") from exc
        if not addresses:
            raise DNSError(f"no address for {host!r}")
    if not allow_private:
        # ANY bad answer refuses the host: a mixed answer is a classic rebinding trick.
        for address in addresses:
            reason = blocked_reason(address)
            if reason is not None:
                raise BlockedAddressError(f"{host} resolves to {address}: {reason}")
    return tuple(addresses)
