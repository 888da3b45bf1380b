"""cli/prefect_server.py: which Prefect server `recite run` uses, and its startup timeout."""

import http.server
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_HOME,
    PREFECT_SERVER_API_HOST,
    PREFECT_SERVER_API_PORT,
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    temporary_settings,
)

from cli.prefect_server import EPHEMERAL_STARTUP_SECONDS, background_server, run_settings


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()
        self.wfile.write(b"true")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_port() -> Iterator[int]:
    """A local server that answers /api/health as Prefect's does."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def _no_api(home: Path, port: int = 9) -> AbstractContextManager[object]:
    return temporary_settings(
        updates={PREFECT_HOME: str(home), PREFECT_SERVER_API_HOST: "127.0.0.1",
                 PREFECT_SERVER_API_PORT: port},
        restore_defaults={PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS},
    )


def test_a_temporary_server_gets_a_longer_startup_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", raising=False)
    with _no_api(tmp_path):
        assert run_settings() == {
            PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: EPHEMERAL_STARTUP_SECONDS
        }


def test_the_users_timeout_and_api_url_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "45")
    with _no_api(tmp_path):
        assert run_settings() == {}
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        assert run_settings() == {}


def test_a_background_server_that_answers_is_used(tmp_path: Path, health_port: int) -> None:
    with _no_api(tmp_path, health_port):
        assert background_server() is None  # no PID file: not one started in the background
        (tmp_path / "server.pid").write_text("1")
        url = f"http://127.0.0.1:{health_port}/api"
        assert background_server() == url
        assert run_settings() == {PREFECT_API_URL: url}


def test_a_stale_pid_file_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", raising=False)
    (tmp_path / "server.pid").write_text("1")
    with _no_api(tmp_path):  # nothing listens on port 9
        assert background_server() is None
        assert PREFECT_API_URL not in run_settings()
