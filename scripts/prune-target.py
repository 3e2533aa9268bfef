#!/usr/bin/env python3
"""Keeps a Cargo target directory shared by several clones from filling the disk.

Every clone in a new folder gets new hashes for the workspace's test binaries, examples and
incremental caches (each test binary is 100+ MB with line tables), and cargo never deletes the old
ones: the shared target here grew to 72 GB and filled the disk. This keeps the KEEP (default 2)
newest of each executable and incremental cache per name (so two clones in turn stay warm) and
deletes the rest. Libraries (.rlib/.rmeta) are left alone: cargo picks them by hash, and an old
one may still be the right one for another feature set.

    python3 scripts/prune-target.py [TARGET_DIR] [--keep N] [--dry-run]
"""

import argparse
import os
import re
import shutil
import sys

HASHED = re.compile(r"^(?P<name>.+)-(?P<hash>[0-9a-f]{16})$")


def newest_first(paths):
    def mtime(p):
        try:
            return os.path.getmtime(p)
        except OSError:
            return 0.0

    return sorted(paths, key=mtime, reverse=True)


def prune_executables(folder, keep, dry_run):
    groups = {}
    for entry in os.scandir(folder):
        m = HASHED.match(entry.name)
        if not m or not entry.is_file(follow_symlinks=False) or not os.access(entry.path, os.X_OK):
            continue
        groups.setdefault(m.group("name"), []).append(entry.path)
    freed = 0
    for paths in groups.values():
        for old in newest_first(paths)[keep:]:
            for p in (old, old + ".d", old + ".dwp"):
                if os.path.exists(p):
                    freed += os.path.getsize(p)
                    if not dry_run:
                        os.remove(p)
    return freed


def tree_size(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def prune_incremental(folder, keep, dry_run):
    groups = {}
    for entry in os.scandir(folder):
        m = HASHED.match(entry.name) or re.match(r"^(?P<name>.+)-(?P<hash>[0-9a-z]+)$", entry.name)
        if m and entry.is_dir(follow_symlinks=False):
            groups.setdefault(m.group("name"), []).append(entry.path)
    freed = 0
    for paths in groups.values():
        for old in newest_first(paths)[keep:]:
            freed += tree_size(old)
            if not dry_run:
                shutil.rmtree(old, ignore_errors=True)
    return freed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("target", nargs="?", default=os.environ.get("CARGO_TARGET_DIR", "target"))
    ap.add_argument("--keep", type=int, default=2)
    ap.add_argument("--dry-run", action="store_true")
    a = ap.parse_args()
    if not os.path.isdir(a.target):
        return 0
    freed = 0
    for profile in os.scandir(a.target):
        if not profile.is_dir():
            continue
        for sub in ("deps", "examples"):
            d = os.path.join(profile.path, sub)
            if os.path.isdir(d):
                freed += prune_executables(d, a.keep, a.dry_run)
        inc = os.path.join(profile.path, "incremental")
        if os.path.isdir(inc):
            freed += prune_incremental(inc, a.keep, a.dry_run)
    verb = "would free" if a.dry_run else "freed"
    print(f"prune-target: {verb} {freed / 1e9:.1f} GB in {a.target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
