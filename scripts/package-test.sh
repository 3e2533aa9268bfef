#!/usr/bin/env bash
# Install test of the Linux packages: builds the .deb and .rpm from the test (dev-profile) build,
# installs the .deb into a clean Debian 12 root (debootstrap --variant=minbase), launches the
# installed app there under Xvfb, checks that its window shows the sign-in screen, checks the
# installed `jhe` command line, then purges the package and checks that it left no files.
#
#   bash scripts/package-test.sh           # as root, on Debian 12
#
# Environment:
#   CARGO_TARGET_DIR     build dir, default /var/tmp/jhe-target (the e2e step's dev build is reused)
#   JHE_PKG_CACHE        cache of the bootstrapped roots and downloaded .debs, default
#                        /var/tmp/jhe-pkg-test (delete it to measure a cold run)
#   JHE_PKG_LAUNCHES     how many times the installed app is started (cold-start timing), default 3
#   JHE_PKG_SKIP_BUILD=1 use the packages of the last build
#   JHE_PKG_PROFILE      where those packages are: debug (default, what this script builds) or
#                        release (a `tauri build` without --debug, e.g. to measure the shipped sizes)
#   SCREENSHOT           where the screenshot goes, default docs/screenshots/installed-app.png
#
# How the root stays honest: the Debian root holds only the package and what its Depends pull in.
# The test tools (Xvfb, xdotool, ImageMagick, the D-Bus session daemon) run on this machine and
# reach the app through the X socket and a bus socket bind-mounted/created inside the root, so no
# test tool can provide a library the package forgot to declare; `ldd` of both installed binaries
# must then resolve every library. Two tarballs under JHE_PKG_CACHE make later runs fast: the
# bootstrapped root (keyed by mirror and suite) and that root plus the package's dependencies
# (keyed by the package's Depends line, so a changed dependency list gets a fresh layer).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/jhe-target}"
export DEBIAN_FRONTEND=noninteractive
CACHE="${JHE_PKG_CACHE:-/var/tmp/jhe-pkg-test}"
LAUNCHES="${JHE_PKG_LAUNCHES:-3}"
SCREENSHOT="${SCREENSHOT:-$ROOT/docs/screenshots/installed-app.png}"
TAURI_CLI="@tauri-apps/cli@2.12.5"
SUITE=bookworm
APP_BIN=/usr/bin/jhe-desktop
CLI_BIN=/usr/bin/jhe
APP_ID=org.jupyterhealth.jhe-desktop
TEST_UID=1000
HOST_TOOLS=(debootstrap xvfb xdotool x11-utils imagemagick dbus-daemon rpm)

START=$SECONDS
TIMES=()
WORK=""      # this run's scratch dir (root, logs); removed on exit
R=""         # the Debian root of this run
MOUNTS=()    # mounted paths, unmounted in reverse order on exit
PIDS=()      # process groups started here, killed on exit

say() { printf '[package-test %4ss] %s\n' $((SECONDS - START)) "$*"; }
die() {
  printf 'package-test: FAILED: %s\n' "$*" >&2
  exit 1
}
timed() { # timed NAME CMD...: run, record the duration
  local name="$1" t=$SECONDS
  shift
  "$@"
  TIMES+=("$(printf '%-22s %5ss' "$name" $((SECONDS - t)))")
}

# ------------------------------------------------------------------------------------------------
# cleanup: every started process killed, every mount unmounted, whatever happened

kill_group() { # kill_group PGID: TERM, up to 3 s, then KILL
  local pg="$1" i
  kill -TERM -- "-$pg" 2>/dev/null || return 0
  for i in $(seq 30); do
    kill -0 -- "-$pg" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$pg" 2>/dev/null || true
}

kill_in_root() { # every process whose root directory is the Debian root (the app, WebKit's helpers)
  [[ -n "$R" && -d "$R" ]] || return 0
  local p pids=() real
  real="$(readlink -f "$R")"
  for p in /proc/[0-9]*; do
    [[ "$(readlink "$p/root" 2>/dev/null)" == "$real" ]] && pids+=("${p#/proc/}")
  done
  [[ ${#pids[@]} -gt 0 ]] || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  sleep 0.5
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

unmount_all() {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    umount -R "${MOUNTS[$i]}" 2>/dev/null || umount -R -l "${MOUNTS[$i]}" 2>/dev/null || true
  done
  MOUNTS=()
}

cleanup() {
  local rc=$?
  set +e
  local pg
  for pg in "${PIDS[@]}"; do kill_group "$pg"; done
  kill_in_root
  unmount_all
  if [[ -n "$WORK" && -d "$WORK" ]]; then
    # never delete through a mount that is still there
    if grep -q " $WORK" /proc/mounts; then
      echo "package-test: mounts left under $WORK, not deleting it" >&2
    else
      rm -rf "$WORK"
    fi
  fi
  [[ $rc -eq 0 ]] || printf 'package-test: exit code %s after %ss\n' "$rc" $((SECONDS - START)) >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

spawn() { # spawn LOG CMD...: start CMD in its own process group (output to LOG.log); sets SPAWNED
  local log="$1.log"
  shift
  setsid "$@" >"$log" 2>&1 </dev/null &
  SPAWNED=$!
  PIDS+=("$SPAWNED")
}

# ------------------------------------------------------------------------------------------------
# host side

host_tools() {
  [[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, chroot, mounts)"
  grep -q 'VERSION_CODENAME=bookworm' /etc/os-release || echo "warning: written for Debian 12 hosts"
  local missing=() p
  for p in "${HOST_TOOLS[@]}"; do
    [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]] || missing+=("$p")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    say "apt: installing ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

mirror() { # the Debian mirror this machine uses
  local m=""
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    m="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [[ -z "$m" && -f /etc/apt/sources.list ]]; then
    m="$(awk '$1 == "deb" && $3 ~ /^bookworm(-updates)?$/ {print $2; exit}' /etc/apt/sources.list)"
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

build_packages() {
  [[ -d ui/node_modules ]] || (cd ui && npm ci --no-audit --no-fund --loglevel=error)
  # --debug: the dev profile the e2e step built (`cargo build -p jhe-desktop --features
  # custom-protocol`), so only the bundling is new work. stage-cli.sh (beforeBundleCommand) builds
  # the jhe CLI in the same profile.
  npx --yes "$TAURI_CLI" build --ci --debug --bundles deb,rpm --features custom-protocol -- --locked
}

find_packages() {
  local profile="${JHE_PKG_PROFILE:-debug}"
  DEB="$(ls -t "$CARGO_TARGET_DIR/$profile"/bundle/deb/*.deb 2>/dev/null | head -n1)"
  RPM="$(ls -t "$CARGO_TARGET_DIR/$profile"/bundle/rpm/*.rpm 2>/dev/null | head -n1)"
  [[ -f "$DEB" ]] || die "no .deb under $CARGO_TARGET_DIR/$profile/bundle/deb"
  [[ -f "$RPM" ]] || die "no .rpm under $CARGO_TARGET_DIR/$profile/bundle/rpm"
}

check_packages() {
  local f
  say "deb: $DEB ($(du -h "$DEB" | cut -f1))"
  dpkg-deb -f "$DEB" Package Version Architecture Installed-Size Depends Recommends
  dpkg-deb -c "$DEB" | awk '{$1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); sub(/^\.\//, ""); print "./" $0}' >"$WORK/deb-files"
  for f in ./usr/bin/jhe-desktop ./usr/bin/jhe "./usr/share/applications/JHE Desktop.desktop" \
    ./usr/share/icons/hicolor/32x32/apps/jhe-desktop.png ./usr/share/icons/hicolor/128x128/apps/jhe-desktop.png \
    ./usr/share/icons/hicolor/256x256/apps/jhe-desktop.png ./usr/share/icons/hicolor/512x512/apps/jhe-desktop.png; do
    grep -qxF "$f" "$WORK/deb-files" || die "the .deb lacks $f"
  done
  dpkg-deb --ctrl-tarfile "$DEB" >/dev/null
  say "rpm: $RPM ($(du -h "$RPM" | cut -f1))"
  rpm -qp --queryformat 'rpm: %{NAME} %{VERSION}-%{RELEASE} %{ARCH}, installed size %{SIZE} bytes\n' "$RPM" 2>/dev/null
  rpm -qpR "$RPM" 2>/dev/null | grep -v '^rpmlib(' | sed 's/^/rpm requires: /'
  rpm -qpl "$RPM" 2>/dev/null >"$WORK/rpm-files"
  for f in /usr/bin/jhe-desktop /usr/bin/jhe "/usr/share/applications/JHE Desktop.desktop"; do
    grep -qxF "$f" "$WORK/rpm-files" || die "the .rpm lacks $f"
  done
}

# ------------------------------------------------------------------------------------------------
# the Debian root

in_root_t() { # in_root_t SECONDS CMD...: run CMD as root in the Debian root, bounded
  local t="$1"
  shift
  timeout "$t" chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@"
}
in_root() { in_root_t 120 "$@"; }

mount_root() { # /proc, /sys, /dev (+ a private /dev/shm), the apt download cache, the X socket dir
  mount -t proc proc "$R/proc" && MOUNTS+=("$R/proc")
  mount -t sysfs sysfs "$R/sys" && MOUNTS+=("$R/sys")
  mount --rbind /dev "$R/dev" && mount --make-rslave "$R/dev" && MOUNTS+=("$R/dev")
  mount -t tmpfs -o mode=1777,size=512m shm "$R/dev/shm" && MOUNTS+=("$R/dev/shm")
  mkdir -p "$CACHE/archives/partial" "$R/var/cache/apt/archives"
  mount --bind "$CACHE/archives" "$R/var/cache/apt/archives" && MOUNTS+=("$R/var/cache/apt/archives")
  cp -L /etc/resolv.conf "$R/etc/resolv.conf"
}

new_root() { # new_root TARBALL: a fresh root from a cached tarball, mounted
  R="$WORK/root"
  rm -rf "$R" && mkdir -p "$R"
  tar -C "$R" -xf "$1"
  mount_root
}

close_root() {
  kill_in_root
  unmount_all
}

make_base() { # debootstrap, apt sources like this machine's, a test user
  local tmp="$WORK/base"
  say "debootstrap --variant=minbase $SUITE from $MIRROR (cold: downloads ~40 MB)"
  timeout 1200 debootstrap --variant=minbase "$SUITE" "$tmp" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -20 "$WORK/debootstrap.log"; die "debootstrap failed"; }
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    rm -f "$tmp/etc/apt/sources.list"
    cp /etc/apt/sources.list.d/debian.sources "$tmp/etc/apt/sources.list.d/debian.sources"
  fi
  chroot "$tmp" useradd -m -u "$TEST_UID" -s /bin/sh tester
  # apt in the root must not delete the shared download cache's files
  echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' >"$tmp/etc/apt/apt.conf.d/99keep-debs"
  rm -rf "$tmp/var/cache/apt/archives"/*.deb
  tar -C "$tmp" -cf "$BASE_TAR.tmp" . && mv "$BASE_TAR.tmp" "$BASE_TAR"
  rm -rf "$tmp"
}

make_deps_layer() { # the base root plus the package's dependencies (install the .deb, purge it)
  new_root "$BASE_TAR"
  say "apt-get update in the root"
  in_root_t 300 apt-get update -qq
  cp "$DEB" "$R/tmp/jhe-desktop.deb"
  say "apt-get install ./jhe-desktop.deb (with its dependencies)"
  in_root_t 900 apt-get install -y -qq --no-install-recommends /tmp/jhe-desktop.deb >"$WORK/deps.log" 2>&1 ||
    { tail -30 "$WORK/deps.log"; die "apt-get install of the .deb failed"; }
  grep -E '^(Need to get|After this operation)|newly installed' "$WORK/deps.log" || true
  in_root_t 120 dpkg --purge jhe-desktop >/dev/null
  rm -f "$R/tmp/jhe-desktop.deb"
  close_root
  tar -C "$R" -cf "$DEPS_TAR.tmp" . && mv "$DEPS_TAR.tmp" "$DEPS_TAR"
  rm -rf "$R"
}

snapshot() { # snapshot FILE: every path in the root, without mounts, temp and user data
  (cd "$R" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp -o -path ./run \
    -o -path ./home -o -path ./root -o -path ./var/cache -o -path ./var/log -o -path ./var/lib/apt/lists \) -prune \
    -o -print | LC_ALL=C sort) >"$1"
}

# ------------------------------------------------------------------------------------------------
# the checks

install_deb() {
  cp "$DEB" "$R/tmp/jhe-desktop.deb"
  in_root_t 600 apt-get install -y -qq --no-install-recommends /tmp/jhe-desktop.deb >"$WORK/install.log" 2>&1 ||
    { tail -30 "$WORK/install.log"; die "apt-get install ./jhe-desktop.deb failed"; }
  in_root dpkg-query -W -f='installed: ${Package} ${Version}, Installed-Size ${Installed-Size} KiB\n' jhe-desktop
  local b missing
  for b in "$APP_BIN" "$CLI_BIN"; do
    [[ -x "$R$b" ]] || die "$b is not installed"
    missing="$(in_root ldd "$b" | grep 'not found' || true)"
    [[ -z "$missing" ]] || die "$b needs libraries no declared dependency provides:
$missing"
  done
  local desktop="$R/usr/share/applications/JHE Desktop.desktop"
  [[ -f "$desktop" ]] || die "no desktop entry"
  grep -qx 'Exec=jhe-desktop' "$desktop" || die "desktop entry: unexpected Exec line"
  grep -qx 'Icon=jhe-desktop' "$desktop" || die "desktop entry: unexpected Icon line"
  say "desktop entry: $(grep -E '^(Name|Exec|Icon|Categories)=' "$desktop" | tr '\n' ' ')"
  say "icons: $(cd "$R/usr/share/icons/hicolor" && ls -d */apps/jhe-desktop.png | cut -d/ -f1 | tr '\n' ' ')"
  say "installed: $(du -sh "$R$APP_BIN" | cut -f1) jhe-desktop, $(du -sh "$R$CLI_BIN" | cut -f1) jhe"
}

check_cli() {
  local v
  v="$(timeout 20 chroot --userspec=$TEST_UID:$TEST_UID "$R" /usr/bin/env -i HOME=/home/tester \
    PATH=/usr/bin:/bin "$CLI_BIN" --version)" || die "jhe --version failed"
  say "jhe --version: $v"
  [[ "$v" == jhe* ]] || die "unexpected jhe --version output: $v"
  timeout 20 chroot --userspec=$TEST_UID:$TEST_UID "$R" /usr/bin/env -i HOME=/home/tester \
    PATH=/usr/bin:/bin "$CLI_BIN" --help >/dev/null || die "jhe --help failed"
}

start_display() { # Xvfb and a private D-Bus session bus on this machine, reachable from the root
  local fd="$WORK/display"
  spawn "$WORK/xvfb" Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp -noreset 3>"$fd"
  local i
  for i in $(seq 100); do [[ -s "$fd" ]] && break; sleep 0.1; done
  [[ -s "$fd" ]] || die "Xvfb did not start: $(cat "$WORK/xvfb.log")"
  DISPLAY_NUM=":$(head -n1 "$fd")"
  mkdir -p "$R/tmp/.X11-unix"
  mount --bind /tmp/.X11-unix "$R/tmp/.X11-unix" && MOUNTS+=("$R/tmp/.X11-unix")
  install -d -m 700 -o "$TEST_UID" -g "$TEST_UID" "$R/run/user/$TEST_UID"
  # the session bus runs as the test user (a session bus accepts only its own user)
  spawn "$WORK/dbus" setpriv --reuid="$TEST_UID" --regid="$TEST_UID" --clear-groups \
    dbus-daemon --session --nofork --nopidfile --address="unix:path=$R/run/user/$TEST_UID/bus"
  for i in $(seq 100); do [[ -S "$R/run/user/$TEST_UID/bus" ]] && break; sleep 0.05; done
  [[ -S "$R/run/user/$TEST_UID/bus" ]] || die "dbus-daemon did not start: $(cat "$WORK/dbus.log")"
  say "Xvfb on $DISPLAY_NUM, session bus in the root at /run/user/$TEST_UID/bus"
}

x() { DISPLAY="$DISPLAY_NUM" "$@"; }

now_ms() { date +%s%3N; }

launch_app() { # launch_app N: start the installed app, wait for its window; sets WIN, MAP_MS, READY_MS
  local n="$1" log="$WORK/app$1" t0 i
  t0=$(now_ms)
  spawn "$log" chroot --userspec=$TEST_UID:$TEST_UID "$R" /usr/bin/env -i \
    HOME=/home/tester USER=tester LOGNAME=tester SHELL=/bin/sh PATH=/usr/bin:/bin LANG=C.UTF-8 \
    DISPLAY="$DISPLAY_NUM" XDG_RUNTIME_DIR="/run/user/$TEST_UID" \
    DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$TEST_UID/bus" \
    NO_AT_BRIDGE=1 WEBKIT_DISABLE_COMPOSITING_MODE=1 RUST_LOG=info "$APP_BIN"
  APP_PG=$SPAWNED
  WIN=""
  for i in $(seq 600); do # ≤ 30 s
    WIN="$(x xdotool search --onlyvisible --name '^JHE Desktop$' 2>/dev/null | head -n1 || true)"
    [[ -n "$WIN" ]] && break
    kill -0 "$APP_PG" 2>/dev/null || { cat "$log.log"; die "the app exited before showing a window"; }
    sleep 0.05
  done
  [[ -n "$WIN" ]] || { cat "$log.log"; die "no 'JHE Desktop' window within 30 s"; }
  MAP_MS=$(($(now_ms) - t0))
  READY_MS=""
  for i in $(seq 300); do # ≤ 30 s for the page to load
    READY_MS="$(sed -n 's/.*window ready \([0-9]*\) ms after start.*/\1/p' "$log.log" | head -n1)"
    [[ -n "$READY_MS" ]] && break
    sleep 0.1
  done
  [[ -n "$READY_MS" ]] || { cat "$log.log"; die "the app did not log 'window ready' within 30 s"; }
  say "launch $n: window mapped after $MAP_MS ms, page loaded (app's log) $READY_MS ms after start"
}

stop_app() {
  kill_group "$APP_PG"
  kill_in_root
}

check_sign_in_screen() { # the window's title, geometry and the sign-in screen's colours
  local geo shot="$WORK/window.png" hist bg accent total
  x xwininfo -id "$WIN" >"$WORK/xwininfo"
  grep -q 'Map State: IsViewable' "$WORK/xwininfo" || die "the window is not viewable"
  geo="$(awk '/Width:/ {w=$2} /Height:/ {h=$2} END {print w "x" h}' "$WORK/xwininfo")"
  say "window $WIN: title '$(x xdotool getwindowname "$WIN")', $geo"
  sleep 1 # let the first frame paint after the page load
  x import -window root "$SCREENSHOT"
  x import -window "$WIN" "$shot"
  hist="$(convert "$shot" -format %c histogram:info:-)"
  total="$(identify -format '%w %h' "$shot" | awk '{print $1 * $2}')"
  # styles.css: --bg #f5f6f8 (page), --surface #ffffff (card), --accent #1f5fbf (Sign in button)
  bg="$(grep -i '#F5F6F8' <<<"$hist" | awk -F: '{s+=$1} END {print s+0}')"
  accent="$(grep -i '#1F5FBF' <<<"$hist" | awk -F: '{s+=$1} END {print s+0}')"
  say "screenshot: page background $((100 * bg / total))%, accent $((1000 * accent / total))‰ of the window"
  [[ $((100 * bg / total)) -ge 20 ]] || die "the window does not show the app's page background (blank or error page?)"
  [[ $accent -ge 500 ]] || die "no accent-coloured sign-in button in the window"
  grep -qi 'error\|panicked' "$WORK/app1.log" && grep -i 'error\|panicked' "$WORK/app1.log" | head -5
  return 0
}

purge_and_diff() {
  in_root_t 300 apt-get remove --purge -y -qq jhe-desktop >"$WORK/remove.log" 2>&1 ||
    { tail -20 "$WORK/remove.log"; die "apt-get remove --purge failed"; }
  snapshot "$WORK/after"
  if ! diff "$WORK/before" "$WORK/after" >"$WORK/diff"; then
    cat "$WORK/diff"
    die "the root differs from before the install (> left behind, < removed)"
  fi
  say "purged: no files left (user data, not removed by design:"
  (cd "$R/home/tester" && find . -mindepth 1 -maxdepth 3 -type d | sort | sed 's/^/    ~\//')
  say ")"
}

# ------------------------------------------------------------------------------------------------

main() {
  timed host_tools host_tools
  WORK="$(mktemp -d /var/tmp/jhe-pkg-run.XXXXXX)"
  chmod 755 "$WORK" # the test user's session bus lives below it
  mkdir -p "$CACHE" "$(dirname "$SCREENSHOT")"
  if [[ "${JHE_PKG_SKIP_BUILD:-0}" != 1 ]]; then
    timed "build (tauri --debug)" build_packages
  fi
  find_packages
  check_packages

  MIRROR="$(mirror)"
  BASE_TAR="$CACHE/$SUITE-minbase-$(echo "$MIRROR $SUITE $TEST_UID" | sha256sum | cut -c1-12).tar"
  local deps_key
  deps_key="$(dpkg-deb -f "$DEB" Depends | sha256sum | cut -c1-12)"
  DEPS_TAR="${BASE_TAR%.tar}-deps-$deps_key.tar"
  if [[ ! -f "$BASE_TAR" ]]; then timed "debootstrap (cold)" make_base; fi
  if [[ ! -f "$DEPS_TAR" ]]; then timed "dependencies (cold)" make_deps_layer; fi
  say "root: $(du -h "$DEPS_TAR" | cut -f1) $DEPS_TAR"

  timed "root from cache" new_root "$DEPS_TAR"
  snapshot "$WORK/before"
  timed "apt-get install ./deb" install_deb
  timed "jhe --version" check_cli
  start_display
  local n maps=() readies=()
  for n in $(seq "$LAUNCHES"); do
    launch_app "$n"
    maps+=("$MAP_MS")
    readies+=("$READY_MS")
    [[ $n -eq 1 ]] && timed "sign-in screen check" check_sign_in_screen
    stop_app
  done
  timed "remove --purge + diff" purge_and_diff
  close_root

  printf '\n==== package-test summary ====\n'
  printf '%s\n' "${TIMES[@]}"
  printf 'deb %s, rpm %s; installed size (dpkg) %s KiB\n' "$(du -h "$DEB" | cut -f1)" "$(du -h "$RPM" | cut -f1)" \
    "$(dpkg-deb -f "$DEB" Installed-Size)"
  printf 'cold start, window mapped (ms): %s; page loaded (ms): %s\n' "${maps[*]}" "${readies[*]}"
  printf 'screenshot: %s\nall checks passed in %ss\n' "$SCREENSHOT" $((SECONDS - START))
}

main "$@"
