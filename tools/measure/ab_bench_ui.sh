#!/usr/bin/env bash
# Before/after figures for a change to the real-time loop: `bench ui` in two trees, interleaved (A, B, A, B,
# ...) so that both share the host's load, then the median and range of each figure per tree.
#   tools/measure/ab_bench_ui.sh A_TREE B_TREE [RUNS] [SECONDS]
# BENCH_ARGS adds arguments to every run, e.g. BENCH_ARGS="--photo assets/photos/lake_pier.jpg".
# A tree is a checkout with a .venv (a worktree of another commit: `git worktree add /tmp/before REV --detach;
# ln -s "$PWD/.venv" /tmp/before/.venv`). Results: $OUT (default out/ab_bench_ui)/{A,B}_N.json.
set -euo pipefail
A="$(cd "$1" && pwd)"
B="$(cd "$2" && pwd)"
RUNS="${3:-3}"
SECONDS_PER_RUN="${4:-15}"
OUT="$(mkdir -p "${OUT:-out/ab_bench_ui}" && cd "${OUT:-out/ab_bench_ui}" && pwd)"
export SDL_VIDEODRIVER=offscreen SDL_AUDIODRIVER=dummy

for n in $(seq 1 "$RUNS"); do
    for side in A B; do
        tree="$A"; [ "$side" = B ] && tree="$B"
        echo "run $n/$RUNS: $side ($tree)"
        # shellcheck disable=SC2086  # BENCH_ARGS is split into words on purpose
        (cd "$tree" && .venv/bin/python -m demo bench ui --workers process --seconds "$SECONDS_PER_RUN" \
            ${BENCH_ARGS:-} --json "$OUT/${side}_$n.json" > "$OUT/${side}_$n.log" 2>&1)
    done
done

"$B/.venv/bin/python" - "$OUT" <<'EOF'
import json, statistics, sys
from pathlib import Path

out = Path(sys.argv[1])
figures = {
    "latency p50 ms": lambda m: m["latency_ms"]["p50"],
    "latency p95 ms": lambda m: m["latency_ms"]["p95"],
    "frame p95 ms": lambda m: m["frame_ms"]["p95"],
    "solver in the app, steps/s": lambda m: m["solver_steps_per_s"],
    "photo view updates/s": lambda m: m["photo_view_updates_per_s"] or 0.0,
}
runs = {side: [json.loads(p.read_text())["modes"][0] for p in sorted(out.glob(f"{side}_*.json"))] for side in "AB"}
for name, figure in figures.items():
    cells = []
    for side in "AB":
        values = [figure(mode) for mode in runs[side]]
        cells.append(f"{side} {statistics.median(values):.1f} [{min(values):.1f}-{max(values):.1f}]")
    print(f"{name:28s} " + "   ".join(cells) + f"   ({len(runs['A'])} runs each)")
EOF
