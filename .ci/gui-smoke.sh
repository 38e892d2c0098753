#!/usr/bin/env bash
# Opens the real window under Xvfb (Mesa software OpenGL), waits, takes a screenshot, and fails if
# the app died or the screenshot is blank.
#   .ci/gui-smoke.sh BINARY OUT.png
set -euo pipefail
bin=${1:?binary}; out=${2:?screenshot path}
disp=":$((90 + RANDOM % 400))"
home=$(mktemp -d)   # no saved state: this is a first launch
Xvfb "$disp" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill "$xvfb" 2>/dev/null || true' EXIT
sleep 2
log=$(mktemp)
HOME=$home DISPLAY=$disp LIBGL_ALWAYS_SOFTWARE=1 "$bin" >"$log" 2>&1 &
app=$!
sleep 8
if ! kill -0 "$app" 2>/dev/null; then
  echo "gui-smoke: the app exited within 8 s; its output:"; cat "$log"; exit 1
fi
DISPLAY=$disp import -window root "$out"
kill "$app"; wait "$app" 2>/dev/null || true
colors=$(identify -format '%k' "$out")
echo "gui-smoke: app was running; screenshot $out has $colors distinct colors"
if [ "$colors" -lt 16 ]; then
  echo "gui-smoke: the screenshot is blank"; exit 1
fi
