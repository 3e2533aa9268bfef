#!/usr/bin/env bash
# Runs inside the e2e's private D-Bus session (run.sh): starts a real Secret Service (GNOME
# Keyring, keyrings in the test's temporary XDG_DATA_HOME, unlocked with a throw-away password) so the
# app's keychain path is what the tests exercise, runs the window tests under Xvfb, then the
# keychain test that the app's and the CLI's sign-ins are separate entries. Every process started
# here is stopped here, and every wait is bounded.
set -euo pipefail
: "${TMP:?run through tests/e2e/run.sh}"

keyring_pid=""
stop_keyring() { [[ -n "$keyring_pid" ]] && kill "$keyring_pid" 2>/dev/null || true; }
trap stop_keyring EXIT

if command -v gnome-keyring-daemon >/dev/null; then
  # A non-empty password: with an empty one no keyring is created and every write fails.
  printf 'jhe-e2e' | gnome-keyring-daemon --foreground --unlock --components=secrets >"$TMP/keyring.log" 2>&1 &
  keyring_pid=$!
  for _ in $(seq 1 100); do
    if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
      break
    fi
    sleep 0.1
  done
  echo "Secret Service: GNOME Keyring (pid $keyring_pid)"
else
  echo "gnome-keyring-daemon not found (apt-get install gnome-keyring): the keychain tests will fail" >&2
fi

cd "$(dirname "${BASH_SOURCE[0]}")"
xvfb-run -a -s "-screen 0 1280x800x24" \
  timeout --kill-after=30 1500 node --test --test-concurrency=1 --test-reporter=spec app.test.mjs

# The same keychain, now for the CLI and the app side by side (built by `cargo test` already).
cd ../..
timeout --kill-after=10 600 cargo test --workspace --locked --lib -- --ignored --exact \
  auth::store::tests::real_keychain_keeps_the_apps_and_the_clis_sign_ins_apart
