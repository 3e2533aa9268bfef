#!/usr/bin/env bash
# Stages the `jhe` command line for the Linux packages: `tauri build` runs this before bundling
# (build.beforeBundleCommand in src-tauri/tauri.linux.conf.json), and bundle.linux.{deb,rpm}.files install
# target/bundle-cli/jhe as /usr/bin/jhe. Builds jhe-cli in the same profile as the app
# (`tauri build --debug` → dev profile, else release), for the same target.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Built together with the app (the same feature resolution: nothing of the app's dependency graph
# changes, so only the CLI's own crates compile; `-p jhe-cli` alone resolves other features for
# serde, tokio, … and rebuilds them and polars — half an hour in the dev profile on 2 cores).
args=(build --locked -p jhe-desktop -p jhe-cli --features jhe-desktop/custom-protocol
  --message-format=json-render-diagnostics)
[[ "${TAURI_ENV_DEBUG:-false}" == true ]] || args+=(--release)
# A cross build (`tauri build --target T`, T not this machine): the CLI for T too. CARGO_BUILD_TARGET,
# when set (the release workflow sets it to the matrix target), is read by cargo itself.
host="$(rustc -vV | sed -n 's/^host: //p')"
target="${TAURI_ENV_TARGET_TRIPLE:-$host}"
if [[ -z "${CARGO_BUILD_TARGET:-}" && "$target" != "$host" ]]; then
  args+=(--target "$target")
fi

start=$SECONDS
exe="$(cargo "${args[@]}" | grep -o '"executable":"[^"]*/jhe"' | tail -n1 | cut -d'"' -f4)"
[[ -n "$exe" && -x "$exe" ]] || { echo "stage-cli: cargo did not report the jhe executable" >&2; exit 1; }
mkdir -p target/bundle-cli
cp "$exe" target/bundle-cli/jhe
echo "stage-cli: $exe → target/bundle-cli/jhe ($((SECONDS - start))s)" >&2
