#!/usr/bin/env bash
# Export benchmark (not a test): on one sandbox with one data set, side by side in one run,
#   1. the server's own limit: the same FHIR pages downloaded and thrown away (no decoding),
#   2. `jhe export` of the whole study to Parquet,
#   3. the official Python client: list_observations_df(study) then DataFrame.to_parquet,
# and then `jhe export` of a ~1 million-observation study alone, for its peak memory.
# Prints a Markdown table.
#
#   bash bench/export.sh [PATIENTS DAYS] [LATENCY_MS]
#
# PATIENTS x DAYS sizes the compared study (default 6 x 30 ≈ 52,000 observations: the Python
# client needs about a minute for it). LATENCY_MS (default 0) adds per-request server latency;
# a real JHE server takes ~600 ms per 1000-row page (jhe-api.md 5.4).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/jhe-target}"
PATIENTS="${1:-6}"
DAYS="${2:-30}"
LATENCY="${3:-0}"
BIG_PATIENTS="${BIG_PATIENTS:-40}"
BIG_DAYS="${BIG_DAYS:-90}"
PARALLEL="${PARALLEL:-4}"
VENV="${JHE_VENV:-$PWD/.venv}"
REL="$CARGO_TARGET_DIR/release"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  cargo build --release --quiet -p jhe-sandbox -p jhe-cli --bins
  cargo build --release --quiet -p jhe-engine --example download_only
fi
[[ -x "$VENV/bin/python" ]] || bash scripts/test.sh python_env
"$VENV/bin/python" -c 'import pyarrow' 2>/dev/null || "$VENV/bin/pip" install --quiet pyarrow

WORK="$(mktemp -d)"
SANDBOX_PID=""
cleanup() {
  if [[ -n "$SANDBOX_PID" ]]; then kill "$SANDBOX_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# start_sandbox PATIENTS DAYS: starts it, sets URL, KEY and TOKEN
start_sandbox() {
  if [[ -n "$SANDBOX_PID" ]]; then
    kill "$SANDBOX_PID" 2>/dev/null || true
    wait "$SANDBOX_PID" 2>/dev/null || true
  fi
  rm -f "$WORK/info.json"
  "$REL/jhe-sandbox" --port 0 --patients "$1" --days "$2" --latency-ms "$LATENCY" \
    --end 2026-11-26T00:00:00Z --info-file "$WORK/info.json" >"$WORK/sandbox.log" 2>&1 &
  SANDBOX_PID=$!
  for _ in $(seq 600); do [[ -s "$WORK/info.json" ]] && break; sleep 0.1; done
  URL="$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["url"])' "$WORK/info.json")"
  KEY="$(python3 -c 'import json,sys;d=json.load(open(sys.argv[1]));print([p["apiKey"] for p in d["practitioners"] if p["email"]=="manager_mary@example.com"][0])' "$WORK/info.json")"
  EXPECTED="$(python3 -c 'import json,sys;d=json.load(open(sys.argv[1]));print([s["observations"] for s in d["studies"] if s["id"]==30006][0])' "$WORK/info.json")"
  TOKEN="$(curl -s -X POST -H "Authorization: Basic $KEY" -d grant_type=client_credentials "$URL/o/token/" |
    python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')"
}

# time_cmd OUTFILE CMD...: runs CMD, writes "seconds peak_rss_mb" to OUTFILE
time_cmd() {
  local out="$1"
  shift
  /usr/bin/time -f '%e %M' -o "$out.time" "$@" >"$out" 2>"$out.err" || {
    cat "$out.err" >&2
    return 1
  }
  awk '{printf "%s %.0f\n", $1, $2/1024}' "$out.time" >"$out.t"
}

row() { # name observations seconds rss
  python3 - "$@" <<'EOF'
import sys
name, n, s, rss = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
print(f"| {name} | {n:,} | {s:.2f} s | {n / s:,.0f} | {rss} MB |")
EOF
}

start_sandbox "$PATIENTS" "$DAYS"
SMALL_EXPECTED="$EXPECTED"
echo "sandbox: $PATIENTS participants x $DAYS days, study 30006 holds $EXPECTED observations, latency ${LATENCY} ms, parallel $PARALLEL" >&2

time_cmd "$WORK/dl" "$REL/examples/download_only" "$URL" "$TOKEN" 30006 "$PARALLEL"
read -r DL_S DL_RSS <"$WORK/dl.t"
time_cmd "$WORK/jhe" env JHE_API_KEY="$KEY" "$REL/jhe" export --server "$URL" --study 30006 \
  --format parquet --out "$WORK/out-jhe" --parallel "$PARALLEL" --quiet
read -r JHE_S JHE_RSS <"$WORK/jhe.t"
JHE_ROWS="$(python3 -c 'import json,sys;m=json.load(open(sys.argv[1]));print(m["total_observations"])' "$WORK/out-jhe/manifest.json")"
time_cmd "$WORK/py" "$VENV/bin/python" bench/python_client_export.py "$URL" "$TOKEN" 30006 "$WORK/py.parquet"
read -r PY_S PY_RSS <"$WORK/py.t"
PY_ROWS="$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["rows"])' "$WORK/py")"

start_sandbox "$BIG_PATIENTS" "$BIG_DAYS"
BIG_EXPECTED="$EXPECTED"
time_cmd "$WORK/big" env JHE_API_KEY="$KEY" "$REL/jhe" export --server "$URL" --study 30006 \
  --format parquet --out "$WORK/out-big" --parallel "$PARALLEL" --quiet
read -r BIG_S BIG_RSS <"$WORK/big.t"

echo
echo "| run | observations | time | observations/s | peak memory |"
echo "|---|---|---|---|---|"
row "download only (same pages, no decoding)" "$SMALL_EXPECTED" "$DL_S" "$DL_RSS"
row "jhe export → Parquet" "$JHE_ROWS" "$JHE_S" "$JHE_RSS"
row "jupyterhealth-client → DataFrame → Parquet" "$PY_ROWS" "$PY_S" "$PY_RSS"
row "jhe export → Parquet, large study" "$BIG_EXPECTED" "$BIG_S" "$BIG_RSS"
python3 - "$JHE_ROWS" "$DL_S" "$JHE_S" "$PY_ROWS" "$PY_S" <<'EOF'
import sys
n, dl, jhe, pyn, py = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
print()
print(f"jhe export vs the Python client: {(n / jhe) / (pyn / py):.0f}x the observations per second (target >= 50x)")
print(f"jhe export vs download only: {jhe / dl:.2f}x the time (target <= 1.3x)")
EOF
