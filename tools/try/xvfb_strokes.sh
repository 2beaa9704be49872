#!/usr/bin/env bash
# Use the app as a visitor would, on a real X server without a screen: open the editor under Xvfb, draw two
# mouse strokes with xdotool, take screenshots, quit with Ctrl+Q, and check that it exits with status 0
# and leaves no worker process behind.
#   tools/try/xvfb_strokes.sh [OUT_DIR] [extra `python -m demo` flags...]
# Needs: xvfb, xdotool and x11-utils (xwininfo): apt-get install xvfb xdotool x11-utils. Screenshots: Pillow's ImageGrab.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${1:-out/xvfb_try}"
shift || true
PY="${PYTHON:-.venv/bin/python}"
DISPLAY_NUMBER="${DISPLAY_NUMBER:-88}"
mkdir -p "$OUT"

Xvfb ":$DISPLAY_NUMBER" -screen 0 1280x900x24 >/dev/null 2>&1 &
XVFB=$!
trap 'kill $XVFB 2>/dev/null || true' EXIT
export DISPLAY=":$DISPLAY_NUMBER" SDL_AUDIODRIVER=dummy
sleep 1

"$PY" -m demo "$@" > "$OUT/app.log" 2>&1 &
APP=$!
# The window, by title (xdotool's own name search misses SDL's windows under a bare Xvfb).
WINDOW=""
for _ in $(seq 60); do
    WINDOW=$(xwininfo -root -tree | awk '/"iGAN Live"/ {print $1; exit}')
    [ -n "$WINDOW" ] && break
    sleep 1
done
[ -n "$WINDOW" ] || { echo "no iGAN Live window after 60 s; see $OUT/app.log" >&2; exit 1; }
sleep 8  # the model loads and the first image arrives
shot() { "$PY" -c "import sys; from PIL import ImageGrab; ImageGrab.grab(xdisplay=sys.argv[1]).save(sys.argv[2])" "$DISPLAY" "$OUT/$1.png"; }
shot before

# Stroke with the mouse: press, move in small steps, release (the default brush is colour).
stroke() {  # x0 y0 x1 y1
    local steps=24
    xdotool mousemove --window "$WINDOW" "$1" "$2" mousedown 1
    for i in $(seq 1 $steps); do
        xdotool mousemove --window "$WINDOW" $(( $1 + ($3 - $1) * i / steps )) $(( $2 + ($4 - $2) * i / steps ))
        sleep 0.02
    done
    xdotool mouseup 1
}
stroke 150 120 450 140
sleep 3
shot after_first
stroke 120 420 480 400
sleep 4
shot after_second

CHILDREN=$(pgrep -P $APP | tr '\n' ' ' || true)  # the engine's worker process (and multiprocessing's helpers)
xdotool key --window "$WINDOW" ctrl+q
STATUS=0
timeout 20 tail --pid=$APP -f /dev/null || STATUS=$?
wait $APP || STATUS=$?
# Children get 5 s to go (a loaded host slows their teardown); any still there are named.
LEFT=""
for _ in $(seq 10); do
    LEFT=""
    for pid in $CHILDREN; do if kill -0 "$pid" 2>/dev/null; then LEFT="$LEFT $pid"; fi; done
    [ -z "$LEFT" ] && break
    sleep 0.5
done
[ -z "$LEFT" ] || ps -o pid,ppid,etime,args -p "$(echo $LEFT | tr ' ' ',')"
LEFT=$(echo $LEFT | wc -w)
echo "child processes while running: ${CHILDREN:-none}; app exit status: $STATUS; still alive 5 s after exit: $LEFT"
echo "screenshots: $OUT/before.png $OUT/after_first.png $OUT/after_second.png; log: $OUT/app.log"
[ "$STATUS" = 0 ] && [ "$LEFT" = 0 ]
