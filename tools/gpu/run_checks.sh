#!/usr/bin/env bash
# Every GPU check of issue 8 in one run of under 4 minutes (timeouts sum to 230 s), for a freshly lent CUDA machine.
#
#   tools/gpu/run_checks.sh                  # on the GPU machine, from the repository root
#   tools/gpu/run_checks.sh --device cpu --tiny   # here: the same commands at a tiny budget (catches typos)
#   TIMEOUT_SCALE=10 ...                           # stretch every timeout (a busy CPU machine; --tiny sets 10)
#
# Writes into "$OUT" (set by the device tool; default out/gpu):
#   env.json                       python, torch, CUDA, GPU name (nvidia-smi)
#   solver_default.json            bench solver on the default model, K=8,64, eager vs whole-step CUDA graph
#   solver_ngf64.json              the same on a random 64x64 generator with ngf=64 (iGAN's scale; goal >= 2000 steps/s at K=64)
#   solver_ngf64_compiled.json     torch.compile(mode="reduce-overhead") against eager, K=64
#   profile/                       python -m demo profile on cuda (report.json, trace.json, frames.csv, latency.png)
#   transfer.json                  bench transfer at 1024^2
#   summary.json                   per check: exit status, seconds, log file
#   *.log                          each check's stdout and stderr
# Each check has its own timeout, so one that hangs or fails leaves the others' figures.
# Nothing is downloaded: it uses the machine's python3 (with CUDA torch) and this checkout on PYTHONPATH.
# If WHEELS names a folder of wheels (carried to the machine), the missing pure dependencies
# (safetensors, tqdm, opencv-python-headless, pygame, moderngl, psutil, matplotlib) are installed from it
# into .venv-gpu (with the system site packages, so the machine's CUDA torch is kept).
set -u

DEVICE=cuda
TINY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --device) DEVICE="$2"; shift 2 ;;
    --tiny) TINY=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "run_checks.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/../.." || exit 2
OUT="${OUT:-out/gpu}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export SDL_VIDEODRIVER=offscreen SDL_AUDIODRIVER=dummy PYTHONUNBUFFERED=1

# A python with torch: $PYTHON if given, else this checkout's .venv, else python3.
if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ] && .venv/bin/python -c "import torch" 2>/dev/null; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
if [ -n "${WHEELS:-}" ] && [ -d "$WHEELS" ]; then
  "$PYTHON" -m venv --system-site-packages .venv-gpu && PYTHON=.venv-gpu/bin/python
  "$PYTHON" -m pip install -q --no-index --find-links "$WHEELS" safetensors tqdm opencv-python-headless pygame \
    moderngl psutil matplotlib pillow imageio >&2 || echo "run_checks.sh: some wheels missing; checks needing them will fail" >&2
fi

if [ "$TINY" = 1 ]; then
  TIMEOUT_SCALE="${TIMEOUT_SCALE:-10}"
  SOLVER_BUDGET=(--rounds 1 --steps 2 --sgemm-size 256)
  BATCHES=2; BIG=2; PROFILE_SECONDS=3; TRANSFER=(--sizes 128 --repeats 2 --flow-images 0)
else
  SOLVER_BUDGET=(--rounds 5 --steps 100)
  BATCHES=8,64; BIG=64; PROFILE_SECONDS=20; TRANSFER=(--sizes 1024 --repeats 15 --flow-images 0)
fi

TIMEOUT_SCALE="${TIMEOUT_SCALE:-1}"
SUMMARY="$OUT/summary.tsv"
: > "$SUMMARY"
check() {  # check NAME SECONDS COMMAND...: run with a timeout, log it, record status and time.
  local name="$1" limit=$(( $2 * TIMEOUT_SCALE )); shift 2
  local start end rc
  echo "== $name (timeout ${limit}s): $*" >&2
  start=$(date +%s%N)
  timeout --kill-after=5 "$limit" "$@" > "$OUT/$name.log" 2>&1
  rc=$?
  end=$(date +%s%N)
  printf '%s\t%s\t%s\n' "$name" "$rc" "$(( (end - start) / 1000000 ))" >> "$SUMMARY"
  tail -n 3 "$OUT/$name.log" >&2
}

# 1. The machine (5 s).
check env 10 "$PYTHON" - "$OUT/env.json" <<'EOF'
import json, platform, subprocess, sys
info = {"python": sys.version.split()[0], "platform": platform.platform()}
try:
    import torch
    info.update(torch=torch.__version__, cuda=torch.version.cuda, cuda_available=torch.cuda.is_available(),
                gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                tf32_cudnn=torch.backends.cudnn.allow_tf32, tf32_matmul=torch.backends.cuda.matmul.allow_tf32)
except Exception as exc:
    info["torch_error"] = repr(exc)
try:
    info["nvidia_smi"] = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,clocks.max.sm,driver_version",
                                         "--format=csv,noheader"], capture_output=True, text=True, timeout=10).stdout.strip()
except Exception as exc:
    info["nvidia_smi"] = repr(exc)
json.dump(info, open(sys.argv[1], "w"), indent=2)
print(json.dumps(info))
EOF

# 2. Solver steps/s at K=8 and 64 on the default model: eager against the whole step in a CUDA graph (35 s).
check solver_default 40 "$PYTHON" -m demo bench solver --device "$DEVICE" --batches "$BATCHES" \
  --step-mode eager,graphs "${SOLVER_BUDGET[@]}" --json "$OUT/solver_default.json"

# 3. The same on iGAN's scale, a random 64x64 generator with ngf=64 (45 s).
check solver_ngf64 50 "$PYTHON" -m demo bench solver --device "$DEVICE" --ngf 64 --batches "$BATCHES" \
  --step-mode eager,graphs "${SOLVER_BUDGET[@]}" --json "$OUT/solver_ngf64.json"

# 4. torch.compile(mode="reduce-overhead") against eager at K=64 (compile time included in first_step_s).
check solver_ngf64_compiled 60 "$PYTHON" -m demo bench solver --device "$DEVICE" --ngf 64 --batches "$BIG" \
  --step-mode eager,reduce-overhead "${SOLVER_BUDGET[@]}" --json "$OUT/solver_ngf64_compiled.json"

# 5. The profiler on cuda: the real app, headless, fed a recorded session.
check profile $((PROFILE_SECONDS + 25)) "$PYTHON" -m demo profile --headless --device "$DEVICE" \
  --seconds "$PROFILE_SECONDS" --out "$OUT/profile"

# 6. Edit transfer at 1024^2.
check transfer 25 "$PYTHON" -m demo bench transfer "${TRANSFER[@]}" --json "$OUT/transfer.json"

# Summary as JSON, with the headline figures pulled out of the solver runs.
"$PYTHON" - "$OUT" <<'EOF'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
checks = {}
for line in (out / "summary.tsv").read_text().splitlines():
    name, rc, milliseconds = line.split("\t")
    checks[name] = {"rc": int(rc), "seconds": round(int(milliseconds) / 1e3, 1), "log": f"{name}.log",
                    "timed_out": int(rc) in (124, 137)}
headline = {}
for name in ("solver_default", "solver_ngf64", "solver_ngf64_compiled"):
    path = out / f"{name}.json"
    if path.exists():
        result = json.loads(path.read_text())
        headline[name] = {"sgemm_gflops": result.get("sgemm_gflops"), "rows": [
            {key: value for key, value in row.items() if "steps_per_s" in key or "ratio" in key or key in ("K", "step_mode_ran_graphs")}
            for row in result["rows"]]}
summary = {"checks": checks, "headline": headline, "all_ok": all(c["rc"] == 0 for c in checks.values())}
(out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
print(json.dumps(summary, indent=2))
EOF
