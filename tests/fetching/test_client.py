"""HTTPS through the pinning transport: connect to the checked IP, but SNI and the
certificate check use the host name."""

from __future__ import annotations

import datetime
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from fetching import FetchRequest, Outcome, make_client
from fetching.fetcher import Fetcher
from tests.fetching.conftest import PUBLIC_IP, TEST_CONFIG, FakeResolver, LoopbackBackend
from tests.fetching.server import DEFAULT_ROUTES, TestServer

x509 = pytest.importorskip("cryptography.x509")
hashes = pytest.importorskip("cryptography.hazmat.primitives.hashes")
serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
ec = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ec")

pytestmark = pytest.mark.anyio


def self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for DNS name `name`: (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestServer, Path]]:
    cert, key = self_signed(tmp_path_factory.mktemp("tls"), "secure.test")
    srv = TestServer()
    for path, handler in DEFAULT_ROUTES.items():
        srv.route(path, handler)
    srv.use_tls(str(cert), str(key))
    srv.start()
    yield srv, cert
    srv.stop()


async def fetch(
    server: TestServer, cert: Path, host: str
) -> tuple[Outcome, str | None, list[tuple[str, int]]]:
    backend = LoopbackBackend()
    context = ssl.create_default_context(cafile=str(cert))
    async with make_client(TEST_CONFIG, network_backend=backend, ssl_context=context) as client:
        fetcher = Fetcher(TEST_CONFIG, client, resolver=FakeResolver())
        result = await fetcher.fetch(FetchRequest(f"https://{host}:{server.port}/ok"))
    return result.outcome, result.error, backend.connects


async def test_https_to_pinned_ip_keeps_sni_and_hostname_check(
    tls_server: tuple[TestServer, Path],
) -> None:
    server, cert = tls_server
    outcome, error, connects = await fetch(server, cert, "secure.test")
    assert outcome is Outcome.OK, error
    assert set(connects) == {(PUBLIC_IP, server.port)}
    assert "secure.test" in server.server_names
    assert server.server_names.count(PUBLIC_IP) == 0


async def test_certificate_for_another_name_is_refused(
    tls_server: tuple[TestServer, Path],
) -> None:
    server, cert = tls_server
    outcome, error, _ = await fetch(server, cert, "impostor.test")
    assert outcome is Outcome.CONNECT_ERROR
    assert error is not None and "certificate" in error.lower()
