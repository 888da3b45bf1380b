"""Screenshots of recite in the Prefect UI, from a real server, offline. See ui_screenshot.sh.

Starts `prefect server start` (UI on) on a free 127.0.0.1 port with a temporary
PREFECT_HOME, a local site of article pages made from the text of examples/seeds, and
`recite serve`; starts an `adhoc` run through the REST API with seeds citing the local site
(plus the example seeds, whose URLs end in network errors offline), waits until it is
Completed, and writes PNGs with headless Chromium. Everything started here is stopped by
its PID at the end. The script needs nothing of tests/: it ships with the project.
"""

import argparse
import base64
import contextlib
import functools
import html
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# Enter 5 as the dedup threshold (allowed: 0.5-1) and submit the custom-run form.
INVALID = """js:(() => {
  const input = [...document.querySelectorAll('input')].find(i => i.value === '0.8');
  if (!input) return false;
  const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  input.scrollIntoView({block: 'center'});
  set.call(input, '5');
  input.dispatchEvent(new Event('input', {bubbles: true}));
  input.dispatchEvent(new Event('change', {bubbles: true}));
  input.dispatchEvent(new Event('blur', {bubbles: true}));
  const submit = [...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'Submit');
  submit.click();
  return true;
})()"""

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "seeds"

CHROMIUM_FLAGS = [
    "--headless", "--disable-dev-shm-usage", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--settle", type=float, default=6.0, help="seconds a page gets to load")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    work = Path(tempfile.mkdtemp(prefix="recite-ui-"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RECITE_"))}
    env.update(
        PREFECT_HOME=str(work / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_API_URL=f"{base}/api", PREFECT_UI_URL=base,
        PREFECT_LOGGING_TO_API_BATCH_INTERVAL="0.5",
    )
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(_start(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
             "--port", str(port), "--ui"], env, work / "server.log",
        ))
        _wait(lambda: _get(f"{base}/api/health") is not None, 150, "the Prefect server")
        with serve_pages(write_site(work / "site")) as site:
            seeds = work / "seeds"
            seeds.mkdir()
            (seeds / "briefing.md").write_text(
                "# Briefing on the Geneva talks\n\n"
                f"See [Lavrov's interview]({site}/news/lavrov.html), "
                f"[Borrell's remarks]({site}/news/borrell.html) and "
                f"[the red lines]({site}/news/red-lines.html).\n\n"
                f"Also cited: {site}/missing.html and {site}/report.pdf.\n"
            )
            (seeds / "reprints.txt").write_text(  # near-duplicates of Borrell's remarks
                f"Reprinted: {site}/reprint/borrell.html and {site}/copy/borrell.html\n"
            )
            serve_env = dict(
                env, RECITE_DB=str(work / "data" / "recite.duckdb"),
                RECITE_SEEDS=str(EXAMPLES), RECITE_EXTRACT_WORKERS="1",
                RECITE_CONNECT_TIMEOUT="3", RECITE_MAX_ATTEMPTS="1",
            )
            processes.append(_start(
                [sys.executable, "-m", "cli.main", "serve"], serve_env, work / "serve.log", cwd=ROOT
            ))
            adhoc = _wait(lambda: _get(f"{base}/api/deployments/name/ingest/adhoc"), 90, "recite serve")
            params = {"params": {
                "seeds": [str(seeds), str(EXAMPLES)],
                "allow_private_addresses": True, "allowed_ports": [], "per_host_delay": 0,
            }}
            run = _post(f"{base}/api/deployments/{adhoc['id']}/create_flow_run", {"parameters": params})
            print(f"flow run {run['name']} ({run['id']}) started", flush=True)
            done = _wait(lambda: _finished(base, run["id"]), 180, "the adhoc run to finish")
            if done["state_type"] != "COMPLETED":
                print(f"run ended {done['state_name']}; see {work}/serve.log", file=sys.stderr)
                return 1
            time.sleep(2)  # let the last logs arrive
        artifacts = {
            a["key"]: a for a in _post(
                f"{base}/api/artifacts/filter", {"flow_runs": {"id": {"any_": [run["id"]]}}}
            )
        }
        report, counts = artifacts["recite-run-report"]["id"], artifacts["recite-run-counts"]["id"]
        pages: list[tuple[str, str, str | None]] = [
            # The form refuses an out-of-range value before any run is created.
            ("adhoc-custom-run-invalid", f"{base}/deployments/deployment/{adhoc['id']}/run", INVALID),
            ("deployments", f"{base}/deployments", None),
            ("adhoc-custom-run-form", f"{base}/deployments/deployment/{adhoc['id']}/run", None),
            # The run page opens on its Logs tab (a deep link to ?tab=Artifacts falls back
            # while the run loads), so the Artifacts tab is clicked.
            ("run-artifacts", f"{base}/runs/flow-run/{run['id']}", "Artifacts"),
            ("run-report", f"{base}/artifacts/artifact/{report}", None),
            ("run-counts", f"{base}/artifacts/artifact/{counts}", None),
        ]
        with Browser(args.chromium) as browser:
            for name, url, action in pages:
                target = args.out / f"{name}.png"
                browser.screenshot(url, target, action=action, settle=args.settle)
                print(f"wrote {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
        return 0
    finally:
        for process in reversed(processes):
            _stop(process)
        shutil.rmtree(work, ignore_errors=True)


def write_site(folder: Path) -> Path:
    """Article pages made of the example seeds' text, two copies of one, and a PDF."""
    texts = {"lavrov": "000", "borrell": "001", "red-lines": "002"}
    for name, prefix in texts.items():
        title, *paragraphs = _paragraphs(next(EXAMPLES.glob(f"{prefix}_*.txt")))
        _write(folder / "news" / f"{name}.html", _article(title, paragraphs))
        if name == "borrell":  # an exact copy, and a reprint with a few words changed
            _write(folder / "copy" / f"{name}.html", _article(title, paragraphs))
            reprint = [paragraphs[0].replace("Borrell", "Josep Borrell", 1), *paragraphs[1:]]
            _write(folder / "reprint" / f"{name}.html", _article(title, reprint))
    _write(folder / "report.pdf", "%PDF-1.4 not an article")
    return folder


def _paragraphs(path: Path) -> list[str]:
    """The text's blank-line separated paragraphs, without the ones that are only links."""
    blocks = [" ".join(b.split()) for b in path.read_text(encoding="utf-8").split("\n\n")]
    return [b for b in blocks if b and not b.startswith("http")]


def _article(title: str, paragraphs: list[str]) -> str:
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body><main><article>"
        f"<h1>{html.escape(title)}</h1>\n{body}</article></main></body></html>"
    )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve_pages(folder: Path) -> Iterator[str]:
    """Serve the files of `folder` on a free 127.0.0.1 port; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _finished(base: str, run_id: str) -> Any:
    run = _get(f"{base}/api/flow_runs/{run_id}")
    return run if run and run["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None


class Browser:
    """Headless Chromium driven over the DevTools protocol: load, click a tab, screenshot."""

    def __init__(self, chromium: str, width: int = 1400, height: int = 1000) -> None:
        self.chromium, self.width, self.height = chromium, width, height
        self.profile = tempfile.mkdtemp(prefix="recite-chromium-")
        self.process: subprocess.Popen[bytes] | None = None
        self._ws: Any = None
        self._id = 0

    def __enter__(self) -> "Browser":
        from websockets.sync.client import connect

        self.process = subprocess.Popen(
            [self.chromium, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}",
             f"--window-size={self.width},{self.height}", "--remote-debugging-port=0",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        port_file = Path(self.profile) / "DevToolsActivePort"
        _wait(lambda: port_file.exists() and port_file.read_text().split(), 60, "Chromium")
        port = port_file.read_text().split()[0]
        targets = _wait(lambda: _get(f"http://127.0.0.1:{port}/json/list"), 30, "a Chromium page")
        page = next(t for t in targets if t["type"] == "page")
        self._ws = connect(page["webSocketDebuggerUrl"], max_size=64 * 1024 * 1024)
        self._call("Page.enable")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._ws is not None:
            self._ws.close()
        if self.process is not None:
            _stop(self.process)
        shutil.rmtree(self.profile, ignore_errors=True)

    def screenshot(self, url: str, target: Path, action: str | None, settle: float) -> None:
        """Load `url`, click the element with text `action` (or run it as JS), save the page."""
        self._call("Emulation.setDeviceMetricsOverride",
                   width=self.width, height=self.height, deviceScaleFactor=1, mobile=False)
        self._call("Page.navigate", url=url)
        time.sleep(settle)
        if action and action.startswith("js:"):
            _wait(lambda: self._eval(action[3:]), 30, f"the page action on {url}")
            time.sleep(settle / 2)
        elif action:
            click_text = action
            finder = (
                "[...document.querySelectorAll('button, a, [role=tab], li, span, div')]"
                f".filter(e => e.children.length <= 2 && e.textContent.trim() === {json.dumps(click_text)})"
            )
            if not _wait(lambda: self._eval(f"(() => {{ const hit = {finder}.pop();"
                                            " if (hit) { hit.click(); return true; } return false; })()"),
                         30, f"{click_text!r} on {url}"):
                raise SystemExit(f"no {click_text!r} to click on {url}")
            time.sleep(settle / 2)
        if action == INVALID:  # one window around the field, with the error toast
            time.sleep(1.0)
            shot = self._call("Page.captureScreenshot", format="png")
            target.write_bytes(base64.b64decode(shot["data"]))
            return
        # The whole page: the document's height, at least one window.
        height = int(self._eval(
            "Math.max(document.documentElement.scrollHeight, ...[...document.querySelectorAll('*')]"
            ".filter(e => e.scrollHeight > e.clientHeight + 5 && getComputedStyle(e).overflowY !== 'visible')"
            ".map(e => e.scrollHeight + e.getBoundingClientRect().top))"
        ) or self.height)
        height = max(self.height, min(height + 40, 6000))
        self._call("Emulation.setDeviceMetricsOverride",
                   width=self.width, height=height, deviceScaleFactor=1, mobile=False)
        time.sleep(1.0)
        shot = self._call("Page.captureScreenshot", format="png")
        target.write_bytes(base64.b64decode(shot["data"]))

    def _eval(self, expression: str) -> Any:
        result = self._call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def _call(self, method: str, **params: Any) -> Any:
        self._id += 1
        self._ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv(timeout=60))
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})


def _start(
    args: list[str], env: dict[str, str], log: Path, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        return subprocess.Popen(args, env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process's group (by its PID), SIGKILL it after 30 s."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())
    except OSError:
        return None


def _post(url: str, body: Any, tries: int = 10) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    for attempt in range(tries):
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:  # 503 while the server is still starting
            if exc.code != 503 or attempt == tries - 1:
                raise
            time.sleep(2)


def _wait(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")


if __name__ == "__main__":
    sys.exit(main())
