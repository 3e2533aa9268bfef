"""The encrypted export opened with the standard tools, as a recipient without JHE Desktop would.

`jhe export --encrypt` (passphrase in JHE_EXPORT_PASSPHRASE) of the demo study against the
sandbox writes one `.tar.age` file; the `age` command-line tool (Debian's `age` package, the
reference Go implementation) decrypts it after asking for the passphrase on its terminal, `tar`
unpacks it, and every file of a plain export of the same study is there with the same bytes
(data files) and the manifest's checksums hold. A wrong passphrase makes `age` fail.

The `jhe` binary is $JHE_CLI_BIN, or ${CARGO_TARGET_DIR:-target}/debug/jhe (built by
`cargo test --workspace`). Skipped only when `age` is missing *and* JHE_REQUIRE_AGE is unset;
scripts/test.sh installs it and sets it, so there it always runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from test_partitioned_duckdb import DEMO_STUDY, jhe_export

PASSPHRASE = "correct horse battery staple"


def age_decrypt(src: Path, dest: Path, passphrase: str, timeout: float = 60.0) -> int:
    """Runs `age -d -o DEST SRC` on a pseudo-terminal (age reads passphrases only from a
    terminal), types `passphrase` at its prompt, and returns its exit code; killed at `timeout`."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: age, on the terminal
        os.execvp("age", ["age", "-d", "-o", str(dest), str(src)])
    deadline = time.monotonic() + timeout
    seen = b""
    typed = False
    status = None
    try:
        while status is None and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 1024)
                except OSError:  # the terminal closed: age is exiting
                    chunk = b""
                seen += chunk
                if not typed and b"passphrase" in seen.lower():
                    os.write(fd, passphrase.encode() + b"\n")
                    typed = True
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
    finally:
        os.close(fd)
        if status is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    if status is None:
        pytest.fail(f"age did not finish in {timeout} s; it printed {seen!r}")
    assert typed, f"age never asked for the passphrase; it printed {seen!r}"
    return os.waitstatus_to_exitcode(status)


@pytest.fixture(scope="module")
def exports(sandbox, tmp_path_factory) -> dict:
    if shutil.which("age") is None:
        if os.environ.get("JHE_REQUIRE_AGE"):
            pytest.fail("the age tool is not installed; scripts/test.sh installs it")
        pytest.skip("the age tool is not installed")
    root = tmp_path_factory.mktemp("age")
    plain, sealed = root / "plain", root / "sealed"
    r = jhe_export(sandbox, DEMO_STUDY, plain, "--format", "parquet")
    assert r.returncode == 0, r.stderr
    os.environ["JHE_EXPORT_PASSPHRASE"] = PASSPHRASE
    try:
        r = jhe_export(sandbox, DEMO_STUDY, sealed, "--format", "parquet", "--encrypt")
    finally:
        del os.environ["JHE_EXPORT_PASSPHRASE"]
    assert r.returncode == 0, r.stderr
    files = list(sealed.iterdir())
    assert len(files) == 1 and files[0].name.endswith(".tar.age"), files
    return {"root": root, "plain": plain, "sealed": files[0]}


def test_age_and_tar_open_it_into_the_plain_exports_files(exports):
    root, plain, sealed = exports["root"], exports["plain"], exports["sealed"]
    tar_path = root / "export.tar"
    assert age_decrypt(sealed, tar_path, PASSPHRASE) == 0
    out = root / "unpacked"
    out.mkdir()
    subprocess.run(["tar", "-xf", str(tar_path), "-C", str(out)], check=True, timeout=60)
    (folder,) = list(out.iterdir())
    assert folder.name == sealed.name.removesuffix(".tar.age")
    manifest = json.loads((folder / "manifest.json").read_text())
    plain_manifest = json.loads((plain / "manifest.json").read_text())
    names = sorted(f["name"] for f in manifest["files"])
    assert names == sorted(f["name"] for f in plain_manifest["files"])
    assert manifest["total_observations"] == plain_manifest["total_observations"] > 0
    for f in manifest["files"]:
        body = (folder / f["name"]).read_bytes()
        assert hashlib.sha256(body).hexdigest() == f["sha256"], f["name"]
        if f["role"] == "data":
            assert body == (plain / f["name"]).read_bytes(), f["name"]
    # readable by its owner only, as every file of an export
    assert (sealed.stat().st_mode & 0o077) == 0


def test_a_wrong_passphrase_does_not_open_it(exports):
    dest = exports["root"] / "wrong.tar"
    assert age_decrypt(exports["sealed"], dest, "not the passphrase") != 0
    assert not dest.exists() or dest.stat().st_size == 0
