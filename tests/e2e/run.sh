#!/usr/bin/env bash
# End-to-end tests of the real JHE Desktop window: builds the UI, the app (serving ui/dist from the
# binary: feature custom-protocol; dialogs answered from JHE_TEST_EXPORT_DIR: feature test-hooks,
# which release builds never have) and the sandbox, then drives the window through tauri-driver and
# WebKitWebDriver under Xvfb, inside a private D-Bus session with a real Secret Service (GNOME
# Keyring: session.sh). Screenshots go to docs/screenshots/.
#
#   bash tests/e2e/run.sh            # needs: webkit2gtk-driver xvfb dbus gnome-keyring, tauri-driver (cargo install)
#
# Env: CARGO_TARGET_DIR (default /var/tmp/jhe-target), TAURI_DRIVER (default: on PATH or
# ~/.cargo/bin), SCREENSHOT_DIR, E2E_SKIP_BUILD=1 (use the binaries built by the last run).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/jhe-target}"

if [[ "${E2E_SKIP_BUILD:-0}" != 1 ]]; then
  [[ -d ui/node_modules ]] || (cd ui && npm ci --no-audit --no-fund --loglevel=error)
  (cd ui && npm run --silent build)
  cargo build --locked -p jhe-desktop --features custom-protocol,test-hooks
  cargo build --locked -p jhe-sandbox --bins
  # A plain `cargo build/test` writes a dev binary (it loads devUrl) to the same path: keep a copy
  # of the one that serves ui/dist.
  mkdir -p "$CARGO_TARGET_DIR/e2e"
  cp "$CARGO_TARGET_DIR/debug/jhe-desktop" "$CARGO_TARGET_DIR/e2e/jhe-desktop"
fi

TMP="$(mktemp -d /tmp/jhe-e2e.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
export JHE_APP_BIN="$CARGO_TARGET_DIR/e2e/jhe-desktop"
export JHE_SANDBOX_BIN="$CARGO_TARGET_DIR/debug/jhe-sandbox"
export JHE_TEST_EXPORT_DIR="$TMP/exports"
export TAURI_DRIVER="${TAURI_DRIVER:-$(command -v tauri-driver || echo "$HOME/.cargo/bin/tauri-driver")}"
# The app's recent servers and the like stay in the temp folder.
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data" XDG_CACHE_HOME="$TMP/cache"
export NO_AT_BRIDGE=1 WEBKIT_DISABLE_COMPOSITING_MODE=1
export RUST_LOG="${RUST_LOG:-info}"

[[ -x "$TAURI_DRIVER" ]] || { echo "tauri-driver not found: cargo install tauri-driver --version ^2 --locked" >&2; exit 1; }
command -v WebKitWebDriver >/dev/null || { echo "WebKitWebDriver not found: apt-get install webkit2gtk-driver" >&2; exit 1; }

export TMP
dbus-run-session -- bash tests/e2e/session.sh
