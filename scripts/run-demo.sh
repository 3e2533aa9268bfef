#!/usr/bin/env bash
# Opens JHE Desktop on the built-in demo exchange (made-up participants, no account needed).
#
#   bash scripts/run-demo.sh
#
# On a fresh Debian 12 / Ubuntu machine it installs what it needs first (the webview's system
# packages with apt, the UI's npm packages), builds the app in release mode and starts it with
# JHE_START_DEMO=1, which opens the app directly on the demo exchange. The Rust toolchain (rustup,
# stable) and Node.js 20+ must already be installed.
#
# Env: CARGO_TARGET_DIR (default /var/tmp/jhe-target), JHE_SKIP_APT=1 (do not call apt-get),
# JHE_DEMO_NO_RUN=1 (only install and build).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/jhe-target}"
export DEBIAN_FRONTEND=noninteractive

PACKAGES=(build-essential pkg-config libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev
  libayatana-appindicator3-dev libxdo-dev libssl-dev file)

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "Need root (or sudo) to run: $*" >&2; exit 1; fi
}

missing=()
for p in "${PACKAGES[@]}"; do
  [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ "${JHE_SKIP_APT:-0}" == 1 ]]; then
    echo "Missing system packages (JHE_SKIP_APT=1, not installing): ${missing[*]}" >&2
  else
    echo "Installing system packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

if ! command -v cargo >/dev/null && [[ -f "$HOME/.cargo/env" ]]; then
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
command -v cargo >/dev/null || { echo "Install Rust first: https://rustup.rs" >&2; exit 1; }
command -v npm >/dev/null || { echo "Install Node.js 20 or newer first." >&2; exit 1; }

echo "Building the web front end…"
(cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
echo "Building JHE Desktop (release; the first build takes a while)…"
cargo build --release --locked -p jhe-desktop --features custom-protocol

[[ "${JHE_DEMO_NO_RUN:-0}" == 1 ]] && exit 0
echo "Starting JHE Desktop on the demo exchange…"
export JHE_START_DEMO=1
exec "$CARGO_TARGET_DIR/release/jhe-desktop"
