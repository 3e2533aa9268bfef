#!/usr/bin/env bash
# Export benchmark (not a test): on one sandbox with one data set, side by side in one run,
#   1. the server's own limit: the same FHIR searches `jhe export` makes, every page downloaded
#      and thrown away (no parsing, no decoding, nothing written),
#   2. `jhe export` of the whole study to Parquet,
#   3. the official Python client: list_observations_df(study) then DataFrame.to_parquet,
# and then `jhe export` of a ~1 million-observation study alone, for its peak memory.
# Prints a Markdown table.
#
#   bash bench/export.sh [PATIENTS DAYS] [LATENCY_MS]
#
# PATIENTS x DAYS sizes the compared study (default 6 x 30 ≈ 50,000 observations: the Python
# client needs about a minute for it). LATENCY_MS (default 0) adds per-request server latency;
# a real JHE server takes ~600 ms per 1000-row page (jhe-api.md 5.4).
#
# Runs 1 and 2 are timed ROUNDS times (default 5), alternating, after one untimed warm-up of
# each, and the medians are reported (on a shared 2-core VM single runs vary by ±20%); the
# Python client runs once.
#
# By default (PIN=1) the sandbox runs on CPU 0 and every client on CPU 1, as if the server were
# another machine: the server then has the same CPU in every run, so "download only" is its own
# limit and the other rows show what each client adds. PIN=0 lets server and clients share both
# CPUs; the server alone then needs both for the download, and any CPU a client spends on
# parsing, decoding and writing is taken from the server (it measures contention as well).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/jhe-target}"
PATIENTS="${1:-6}"
DAYS="${2:-30}"
LATENCY="${3:-0}"
BIG_PATIENTS="${BIG_PATIENTS:-40}"
BIG_DAYS="${BIG_DAYS:-90}"
PARALLEL="${PARALLEL:-4}"
ROUNDS="${ROUNDS:-5}"
PIN="${PIN:-1}"
VENV="${JHE_VENV:-$PWD/.venv}"
REL="$CARGO_TARGET_DIR/release"
if [[ "$PIN" == 1 ]]; then
  ON_SERVER=(taskset -c 0)
  ON_CLIENT=(taskset -c 1)
  CPUS="server on CPU 0, clients on CPU 1"
else
  ON_SERVER=()
  ON_CLIENT=()
  CPUS="server and clients share both CPUs"
fi

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

# start_sandbox PATIENTS DAYS: starts it, sets URL, KEY, EXPECTED and TOKEN
start_sandbox() {
  if [[ -n "$SANDBOX_PID" ]]; then
    kill "$SANDBOX_PID" 2>/dev/null || true
    wait "$SANDBOX_PID" 2>/dev/null || true
  fi
  rm -f "$WORK/info.json"
  "${ON_SERVER[@]}" "$REL/jhe-sandbox" --port 0 --patients "$1" --days "$2" --latency-ms "$LATENCY" \
    --end 2026-11-26T00:00:00Z --info-file "$WORK/info.json" >"$WORK/sandbox.log" 2>&1 &
  SANDBOX_PID=$!
  for _ in $(seq 600); do [[ -s "$WORK/info.json" ]] && break; sleep 0.1; done
  URL="$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["url"])' "$WORK/info.json")"
  KEY="$(python3 -c 'import json,sys;d=json.load(open(sys.argv[1]));print([p["apiKey"] for p in d["practitioners"] if p["email"]=="manager_mary@example.com"][0])' "$WORK/info.json")"
  EXPECTED="$(python3 -c 'import json,sys;d=json.load(open(sys.argv[1]));print([s["observations"] for s in d["studies"] if s["id"]==30006][0])' "$WORK/info.json")"
  TOKEN="$(curl -s -X POST -H "Authorization: Basic $KEY" -d grant_type=client_credentials "$URL/o/token/" |
    python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')"
}

# time_cmd OUT CMD...: runs CMD (on the client CPU when pinned); writes
# "seconds peak_rss_mb cpu_seconds" to OUT.t
time_cmd() {
  local out="$1"
  shift
  /usr/bin/time -f '%e %M %U %S' -o "$out.time" "${ON_CLIENT[@]}" "$@" >"$out" 2>"$out.err" || {
    cat "$out.err" >&2
    return 1
  }
  awk '{printf "%s %.0f %.2f\n", $1, $2/1024, $3+$4}' "$out.time" >"$out.t"
}

# median_line FILE: the line with the median first column
median_line() { sort -n "$1" | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
# range_of FILE: "min–max s" of the first column
range_of() { sort -n "$1" | awk 'NR==1{lo=$1} {hi=$1} END {printf "%.2f–%.2f s", lo, hi}'; }

row() { # name observations seconds cpu rss
  python3 - "$@" <<'PY'
import sys
name, n, s, cpu, rss = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
print(f"| {name} | {n:,} | {s:.2f} s | {n / s:,.0f} | {cpu:.2f} s | {rss} MB |")
PY
}

run_dl() {
  time_cmd "$WORK/dl" "$REL/examples/download_only" "$URL" "$TOKEN" 30006 "$PARALLEL"
}
run_jhe() { # OUT_NAME
  rm -rf "${WORK:?}/$1"
  time_cmd "$WORK/$1.run" env JHE_API_KEY="$KEY" "$REL/jhe" export --server "$URL" --study 30006 \
    --format parquet --out "$WORK/$1" --parallel "$PARALLEL" --quiet
}

start_sandbox "$PATIENTS" "$DAYS"
SMALL_EXPECTED="$EXPECTED"
echo "sandbox: $PATIENTS participants x $DAYS days, study 30006 holds $EXPECTED observations, latency ${LATENCY} ms, parallel $PARALLEL, $CPUS" >&2

run_dl
run_jhe out-jhe # warm-ups (page cache, the server's allocator), not counted
: >"$WORK/dl.runs"
: >"$WORK/jhe.runs"
for _ in $(seq "$ROUNDS"); do
  run_dl
  cat "$WORK/dl.t" >>"$WORK/dl.runs"
  run_jhe out-jhe
  cat "$WORK/out-jhe.run.t" >>"$WORK/jhe.runs"
done
read -r DL_S DL_RSS DL_CPU < <(median_line "$WORK/dl.runs")
read -r JHE_S JHE_RSS JHE_CPU < <(median_line "$WORK/jhe.runs")
DL_RANGE="$(range_of "$WORK/dl.runs")"
JHE_RANGE="$(range_of "$WORK/jhe.runs")"
JHE_ROWS="$(python3 -c 'import json,sys;m=json.load(open(sys.argv[1]));print(m["total_observations"])' "$WORK/out-jhe/manifest.json")"

time_cmd "$WORK/py" "$VENV/bin/python" bench/python_client_export.py "$URL" "$TOKEN" 30006 "$WORK/py.parquet"
read -r PY_S PY_RSS PY_CPU <"$WORK/py.t"
PY_ROWS="$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["rows"])' "$WORK/py")"

start_sandbox "$BIG_PATIENTS" "$BIG_DAYS"
BIG_EXPECTED="$EXPECTED"
run_jhe out-big
read -r BIG_S BIG_RSS BIG_CPU <"$WORK/out-big.run.t"
BIG_ROWS="$(python3 -c 'import json,sys;m=json.load(open(sys.argv[1]));print(m["total_observations"])' "$WORK/out-big/manifest.json")"

echo
echo "$PATIENTS participants x $DAYS days, latency ${LATENCY} ms, parallel $PARALLEL, $CPUS; runs 1-2: median of $ROUNDS rounds [range]"
echo
echo "| run | observations | time | observations/s | client CPU | peak memory |"
echo "|---|---|---|---|---|---|"
row "download only (same searches, no parsing) [$DL_RANGE]" "$SMALL_EXPECTED" "$DL_S" "$DL_CPU" "$DL_RSS"
row "jhe export → Parquet [$JHE_RANGE]" "$JHE_ROWS" "$JHE_S" "$JHE_CPU" "$JHE_RSS"
row "jupyterhealth-client → DataFrame → Parquet" "$PY_ROWS" "$PY_S" "$PY_CPU" "$PY_RSS"
row "jhe export → Parquet, large study" "$BIG_ROWS" "$BIG_S" "$BIG_CPU" "$BIG_RSS"
python3 - "$JHE_ROWS" "$DL_S" "$JHE_S" "$PY_ROWS" "$PY_S" "$JHE_CPU" "$BIG_ROWS" "$BIG_EXPECTED" <<'PY'
import sys
n, dl, jhe, pyn, py, cpu, big, big_expected = sys.argv[1:]
n, dl, jhe, pyn, py, cpu = int(n), float(dl), float(jhe), int(pyn), float(py), float(cpu)
print()
print(f"jhe export vs the Python client: {(n / jhe) / (pyn / py):.0f}x the observations per second (target >= 50x)")
print(f"jhe export vs download only: {jhe / dl:.2f}x the time (target <= 1.3x)")
print(f"jhe export's own CPU: {cpu / n * 1e6:.1f} µs per observation (parse, decode, tidy, write)")
if big != big_expected:
    print(f"large study: {big} exported, the server holds {big_expected}: INCOMPLETE")
PY
