#!/usr/bin/env python3
"""The licences of everything JHE Desktop bundles, as ui/public/licenses.json (the About dialog
shows it; Vite copies it into ui/dist, so every installer carries it).

  python3 scripts/licenses.py          # write ui/public/licenses.json
  python3 scripts/licenses.py --check  # fail when the committed file is stale (scripts/test.sh, step ui)

Rust: the crates in the resolved graph of the desktop app (jhe-desktop) and of the `jhe` command
line the Linux packages install beside it, following normal dependencies only (no dev- or
build-dependencies, no proc-macros: none of those end up in a binary), for each platform the
release workflow builds (`cargo metadata --locked --filter-platform`, so Cargo.lock decides the
versions), the workspace's own crates left out. npm: the production packages of
ui/package-lock.json (no devDependencies: those never reach ui/dist). For each package its
declared licence and the texts of its own licence files (LICENSE*, LICENCE*, COPYING*, NOTICE*,
COPYRIGHT*, UNLICENSE*), read from the cargo registry's sources and ui/node_modules; identical
texts are stored once.

Needs: cargo (it downloads crate sources it lacks, like any build) and `npm ci` in ui/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "ui" / "public" / "licenses.json"
ROOTS = ("jhe-desktop", "jhe-cli")
TARGETS = (
    "x86_64-unknown-linux-gnu",
    "x86_64-pc-windows-msvc",
    "aarch64-apple-darwin",
    "x86_64-apple-darwin",
)
LICENSE_PREFIXES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "COPYRIGHT", "UNLICENSE")


def licence_texts(folder: Path, extra: str | None = None) -> list[str]:
    """The licence files at the top of a package's folder, as text."""
    names = []
    if folder.is_dir():
        names = sorted(
            p.name
            for p in folder.iterdir()
            if p.is_file() and p.name.upper().startswith(LICENSE_PREFIXES)
        )
    if extra and extra not in names and (folder / extra).is_file():
        names.append(extra)
    texts = []
    for n in names:
        raw = (folder / n).read_bytes().decode("utf-8", errors="replace")
        text = "\n".join(line.rstrip() for line in raw.replace("\r\n", "\n").split("\n")).strip()
        if text:
            texts.append(text)
    return texts


def cargo_packages() -> list[dict]:
    found: dict[str, dict] = {}
    for target in TARGETS:
        out = subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked", "--filter-platform", target],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        meta = json.loads(out)
        members = set(meta["workspace_members"])
        pkgs = {p["id"]: p for p in meta["packages"]}
        nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
        todo = [i for i in members if pkgs[i]["name"] in ROOTS]
        seen = set(todo)
        while todo:
            node = nodes[todo.pop()]
            for dep in node["deps"]:
                if not any(k["kind"] is None for k in dep["dep_kinds"]):
                    continue
                if dep["pkg"] not in seen:
                    seen.add(dep["pkg"])
                    todo.append(dep["pkg"])
        for pid in seen:
            p = pkgs[pid]
            if pid in members or pid in found:
                continue
            if all("proc-macro" in t["kind"] for t in p["targets"]):
                continue
            found[pid] = p
    result = []
    for p in found.values():
        folder = Path(p["manifest_path"]).parent
        result.append(
            {
                "ecosystem": "crate",
                "name": p["name"],
                "version": p["version"],
                "license": p.get("license") or ("see its licence file" if p.get("license_file") else "not stated"),
                "repository": p.get("repository") or p.get("homepage") or "",
                "_texts": licence_texts(folder, p.get("license_file")),
            }
        )
    return result


def npm_packages() -> list[dict]:
    lock = json.loads((ROOT / "ui" / "package-lock.json").read_text())
    modules = ROOT / "ui" / "node_modules"
    if not modules.is_dir():
        sys.exit("ui/node_modules is missing: run `npm ci` in ui/ first")
    result = []
    for key, entry in lock.get("packages", {}).items():
        if not key.startswith("node_modules/") or entry.get("dev") or entry.get("devOptional"):
            continue
        name = key.rsplit("node_modules/", 1)[1]
        folder = ROOT / "ui" / key
        if not folder.is_dir():
            sys.exit(f"ui/{key} is missing: run `npm ci` in ui/ first")
        pkg = json.loads((folder / "package.json").read_text())
        repo = pkg.get("repository") or ""
        if isinstance(repo, dict):
            repo = repo.get("url", "")
        result.append(
            {
                "ecosystem": "npm",
                "name": name,
                "version": entry.get("version", pkg.get("version", "")),
                "license": entry.get("license") or pkg.get("license") or "not stated",
                "repository": repo.removeprefix("git+"),
                "_texts": licence_texts(folder),
            }
        )
    return result


def build() -> dict:
    packages = sorted(
        cargo_packages() + npm_packages(),
        key=lambda p: (p["ecosystem"] != "npm", p["name"], p["version"]),
    )
    texts: list[str] = []
    index: dict[str, int] = {}
    for p in packages:
        refs = []
        for t in p.pop("_texts"):
            if t not in index:
                index[t] = len(texts)
                texts.append(t)
            refs.append(index[t])
        p["texts"] = refs
    return {
        "about": "The licences of the software bundled in JHE Desktop. Generated by "
        "scripts/licenses.py from Cargo.lock and ui/package-lock.json; do not edit by hand.",
        "packages": packages,
        "texts": texts,
    }


def render(data: dict) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    want = render(build())
    if "--check" in sys.argv[1:]:
        have = OUT.read_text() if OUT.is_file() else ""
        if have == want:
            n = len(json.loads(want)["packages"])
            print(f"licences: {OUT.relative_to(ROOT)} is up to date ({n} packages)")
            return 0
        old = {(p["ecosystem"], p["name"], p["version"]) for p in json.loads(have or '{"packages": []}')["packages"]}
        new = {(p["ecosystem"], p["name"], p["version"]) for p in json.loads(want)["packages"]}
        for e, n, v in sorted(new - old):
            print(f"  missing from the list: {e} {n} {v}", file=sys.stderr)
        for e, n, v in sorted(old - new):
            print(f"  no longer bundled: {e} {n} {v}", file=sys.stderr)
        print(
            f"{OUT.relative_to(ROOT)} is stale versus Cargo.lock / ui/package-lock.json: run "
            "`python3 scripts/licenses.py` and commit it.",
            file=sys.stderr,
        )
        return 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".json.tmp")
    tmp.write_text(want)
    os.replace(tmp, OUT)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
