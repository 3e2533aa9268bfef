"""Shared fixtures: a jhe-sandbox process on an ephemeral loopback port.

The sandbox binary is taken from $JHE_SANDBOX_BIN, or else
${CARGO_TARGET_DIR:-target}/debug/jhe-sandbox (relative paths are relative to the repo root).
It is started as

    jhe-sandbox --port 0 --info-file <tmp>/info.json --patients 4 --days 3 [$JHE_SANDBOX_EXTRA_ARGS]

and is ready once the info file parses as JSON with a "url" and GET <url>/health answers 200.
The info file looks like

    {"url": "http://127.0.0.1:PORT",
     "practitioners": [{"email": "manager_mary@example.com", "apiKey": "...",
                        "clientId": "...", "clientSecret": "...", "roles": ...}, ...]}

where apiKey = base64(clientId:clientSecret), used with HTTP Basic at POST /o/token/.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = float(os.environ.get("JHE_SANDBOX_STARTUP_TIMEOUT", "120"))
SANDBOX_ARGS = ["--patients", "4", "--days", "3"]
HTTP_TIMEOUT_S = 60


def sandbox_binary() -> Path:
    explicit = os.environ.get("JHE_SANDBOX_BIN")
    if explicit:
        path = Path(explicit)
    else:
        path = Path(os.environ.get("CARGO_TARGET_DIR") or "target") / "debug" / "jhe-sandbox"
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


def _log_tail(log_path: Path, lines: int = 60) -> str:
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class Sandbox:
    url: str
    info: dict[str, Any]
    log_path: Path
    _tokens: dict[str, str] = field(default_factory=dict)

    def practitioner(self, email: str) -> dict[str, Any]:
        for p in self.info.get("practitioners", []):
            if p.get("email") == email:
                return p
        emails = [p.get("email") for p in self.info.get("practitioners", [])]
        raise AssertionError(f"{email} not in the sandbox info file (have: {emails})")

    def api_key(self, email: str) -> str:
        p = self.practitioner(email)
        key = p.get("apiKey")
        if not key:
            key = base64.b64encode(f"{p['clientId']}:{p['clientSecret']}".encode()).decode()
        return key

    def token(self, email: str) -> str:
        """OAuth client_credentials with HTTP Basic, as a practitioner API key is used against JHE."""
        if email not in self._tokens:
            r = requests.post(
                f"{self.url}/o/token/",
                headers={"Authorization": f"Basic {self.api_key(email)}"},
                data={"grant_type": "client_credentials"},
                timeout=HTTP_TIMEOUT_S,
            )
            assert r.status_code == 200, f"token request failed: {r.status_code} {r.text[:500]}"
            body = r.json()
            assert body.get("token_type") == "Bearer", body
            self._tokens[email] = body["access_token"]
        return self._tokens[email]

    def session(self, email: str) -> requests.Session:
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {self.token(email)}"
        return s


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory):
    binary = sandbox_binary()
    if not binary.exists():
        pytest.fail(
            f"jhe-sandbox binary not found at {binary}; build it with "
            "`cargo build -p jhe-sandbox` or set JHE_SANDBOX_BIN",
            pytrace=False,
        )
    workdir = tmp_path_factory.mktemp("jhe-sandbox")
    info_path = workdir / "info.json"
    log_path = workdir / "sandbox.log"
    cmd = [str(binary), "--port", "0", "--info-file", str(info_path), *SANDBOX_ARGS]
    cmd += shlex.split(os.environ.get("JHE_SANDBOX_EXTRA_ARGS", ""))

    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=workdir
        )
    try:
        info = _wait_ready(proc, info_path, log_path, cmd)
        yield Sandbox(url=info["url"].rstrip("/"), info=info, log_path=log_path)
    finally:
        _stop(proc)


def _wait_ready(proc: subprocess.Popen, info_path: Path, log_path: Path, cmd: list[str]) -> dict:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last_error = "info file not written yet"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"jhe-sandbox exited with status {proc.returncode} before it was ready\n"
                f"command: {shlex.join(cmd)}\n--- log ---\n{_log_tail(log_path)}",
                pytrace=False,
            )
        if info_path.exists():
            try:
                info = json.loads(info_path.read_text())
                url = info["url"].rstrip("/")
                r = requests.get(f"{url}/health", timeout=5)
                if r.status_code == 200:
                    return info
                last_error = f"GET /health answered {r.status_code}"
            except (ValueError, KeyError, requests.RequestException) as e:
                # a half-written info file, or the server is not accepting yet
                last_error = f"{type(e).__name__}: {e}"
        time.sleep(0.1)
    pytest.fail(
        f"jhe-sandbox not ready after {STARTUP_TIMEOUT_S:.0f}s ({last_error})\n"
        f"command: {shlex.join(cmd)}\n--- log ---\n{_log_tail(log_path)}",
        pytrace=False,
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
