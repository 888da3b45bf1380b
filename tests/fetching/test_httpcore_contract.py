"""What fetching/streams.py and fetching/client.py assume of httpcore and httpx (issue 17).

recite plugs its own network backend into httpcore and its own connection pool into
httpx's transport. These tests fail when an upgrade changes what those rely on: the
interface's methods and signatures, the extra-info keys httpcore asks a stream for, the
transport attribute holding the pool, and, to force a review, any httpcore newer than the
newest version tested here.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import httpcore
import httpx
import pytest

from fetching.client import PinnedBackend
from fetching.streams import AsyncioBackend, AsyncioStream

# Raise after running this file, tests/fetching and benchmarks/network_backend.py on the
# new version (and the bounds in pyproject.toml with it).
NEWEST_TESTED_HTTPCORE = (1, 0, 9)
ANSWERED_KEYS = {"ssl_object", "client_addr", "server_addr", "socket", "is_readable"}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def test_httpcore_is_a_tested_version() -> None:
    installed = _version(httpcore.__version__)
    assert installed[:2] == (1, 0), httpcore.__version__
    assert installed <= NEWEST_TESTED_HTTPCORE, (
        f"httpcore {httpcore.__version__} is newer than the newest tested "
        f"({'.'.join(map(str, NEWEST_TESTED_HTTPCORE))}): review fetching/streams.py"
    )


def _public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(cls).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (AsyncioStream, httpcore.AsyncNetworkStream),
        (AsyncioBackend, httpcore.AsyncNetworkBackend),
        (PinnedBackend, httpcore.AsyncNetworkBackend),
    ],
)
def test_every_interface_method_is_implemented_with_its_parameters(
    ours: type, theirs: type
) -> None:
    mine = _public_methods(ours)
    for name, signature in _public_methods(theirs).items():
        assert name in mine, f"{ours.__name__} lacks {name}"
        assert list(mine[name].parameters) == list(signature.parameters), name
        defaults = [p.default for p in signature.parameters.values()]
        assert [p.default for p in mine[name].parameters.values()] == defaults, name


def test_every_extra_info_key_httpcore_asks_for_is_answered() -> None:
    asked: set[str] = set()
    for package in (httpcore, httpx):
        root = Path(package.__file__).parent
        for source in root.rglob("*.py"):
            asked |= set(re.findall(r"get_extra_info\(\s*[\"'](\w+)[\"']", source.read_text()))
    assert "is_readable" in asked  # the scan still finds what it is looking for
    assert asked <= ANSWERED_KEYS, asked - ANSWERED_KEYS


def test_httpx_transport_sends_through_the_pool_we_replace() -> None:
    # PinnedTransport sets `_pool` to a pool on our backend; httpx must still send via it.
    source = inspect.getsource(httpx.AsyncHTTPTransport.handle_async_request)
    assert "self._pool.handle_async_request" in source
    assert "self._pool" in inspect.getsource(httpx.AsyncHTTPTransport.aclose)
    assert "network_backend" in inspect.signature(httpcore.AsyncConnectionPool).parameters


def test_the_exceptions_we_raise_are_httpcores() -> None:
    for name in ("ConnectError", "ConnectTimeout", "ReadError", "ReadTimeout",
                 "WriteError", "WriteTimeout"):
        assert issubclass(getattr(httpcore, name), Exception), name
