"""Headless Chromium (Debian's `chromium`) for the report tests: installed when missing.

As root the setup installs it (`apt-get install -y chromium`, as scripts/ui_screenshot.sh
does); when it cannot be had the tests skip, except under CI=true, where a missing
browser fails them (the pattern of tests/sqlclients/test_real_clients.py).
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars",
)


def find_chromium() -> str:
    """The chromium executable, installed first when missing and running as root."""
    exe = shutil.which("chromium")
    if exe is None and hasattr(os, "geteuid") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "chromium"], capture_output=True,
                       timeout=900, check=False)
        exe = shutil.which("chromium")
    if exe is None:
        message = "chromium is missing and could not be installed (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return exe


class Chromium:
    """Runs the browser once per page, each time with a fresh profile."""

    def __init__(self, exe: str, profiles: Path) -> None:
        self.exe = exe
        self.profiles = profiles
        self._n = 0

    def _profile(self) -> str:
        self._n += 1
        folder = self.profiles / f"profile-{self._n}"
        folder.mkdir(parents=True)
        return f"--user-data-dir={folder}"

    def dump_dom(self, url: str, budget_ms: int = 3000) -> str:
        """The DOM of `url` after it loaded and its scripts ran, serialized."""
        done = subprocess.run(
            [self.exe, *FLAGS, self._profile(), f"--virtual-time-budget={budget_ms}",
             "--dump-dom", url],
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def screenshot(self, url: str, target: Path, width: int = 1400, height: int = 1600) -> None:
        """A PNG of `url` as a window of `width` x `height` shows it."""
        done = subprocess.run(
            [self.exe, *FLAGS, self._profile(), f"--window-size={width},{height}",
             "--virtual-time-budget=3000", f"--screenshot={target}", url],
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert done.returncode == 0 and target.is_file(), done.stderr[-2000:]
