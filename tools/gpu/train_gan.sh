#!/usr/bin/env bash
# Train a shipped GAN further on CUDA for a given number of minutes and write the new weights into $OUT.
#
#   OUT=/path/to/out tools/gpu/train_gan.sh MINUTES [MODEL] [extra `train gan` flags...]
#   OUT=$OUT tools/gpu/train_gan.sh 8                       # landscape64, 8 minutes, every GPU of the machine
#   OUT=$OUT tools/gpu/train_gan.sh 8 landscape64 --batch 128 --lr 2e-4
#
# The machine needs only this repository (no runs/, no data/): the run starts from models/MODEL.safetensors
# (its raw G, EMA G, D and step count; Adam restarts with a short warm-up), the landscape data set is
# generated here with every core, and training uses DistributedDataParallel over all GPUs (torchrun,
# nccl) when there is more than one. Writes $OUT/MODEL.safetensors (G, D, raw G: under 16 MiB), $OUT/MODEL.json
# (the card, with the measured figures), $OUT/MODEL_samples.png and $OUT/train_log.csv. A model trained with
# --recon-weight (landscape64) ships the encoder trained beside G; for one without, refit the encoder after
# copying the files into models/:
#   python -m demo train encoder --model MODEL --init <a copy of the old model file> --real-weight 1 --steps 400
# Needs python3 with torch (CUDA build), numpy, opencv-python, safetensors and tqdm; set PYTHON to choose one.
set -euo pipefail

MINUTES=${1:?usage: OUT=DIR $0 MINUTES [MODEL] [train gan flags...]}
MODEL=${2:-landscape64}
shift $(( $# >= 2 ? 2 : 1 ))
: "${OUT:?set OUT to the folder that receives the new weights}"
cd "$(dirname "$0")/../.."
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}

DATA=${DATA:-data/landscapes64}
RUN=${RUN:-runs/${MODEL}_gpu}
GPUS=$("$PY" -c "import torch; print(torch.cuda.device_count())" 2>/dev/null || echo none)
if [ "$GPUS" = none ]; then echo "train_gan.sh: $PY cannot import torch (set PYTHON)" >&2; exit 2; fi
DEVICE=${DEVICE:-cuda}  # DEVICE=cpu: a dry run of this script on a machine without a GPU
if [ "$DEVICE" = cuda ] && [ "$GPUS" -lt 1 ]; then echo "train_gan.sh: no CUDA device visible to $PY" >&2; exit 2; fi
[ "$DEVICE" = cuda ] || GPUS=1
mkdir -p "$OUT"

# 1. The data set (deterministic: the same images as on any other machine). Landscapes are drawn here;
#    other domains bring theirs (DATA=...; avatars need the Node renderer, see docs/avatars.md).
if [ ! -e "$DATA" ] || { [ -d "$DATA" ] && [ ! -f "$DATA/landscapes.npy" ]; }; then
    if [ "$MODEL" != landscape64 ]; then echo "train_gan.sh: set DATA to $MODEL's data set (.npy)" >&2; exit 2; fi
    "$PY" -m demo data landscapes --count 60000 --size 64 --out "$DATA" --workers "$(nproc)"
fi

# 2. Train for MINUTES (checkpoints every 1000 steps; re-running this script resumes from $RUN). The recipe
#    (--d-tone, --recon-weight, ...) comes from the model's card, then from $RUN's checkpoint.
if [ "$GPUS" -gt 1 ]; then
    LAUNCH=("$PY" -m torch.distributed.run --standalone --nproc-per-node "$GPUS" -m demo)
else
    LAUNCH=("$PY" -m demo)
fi
"${LAUNCH[@]}" train gan --data "$DATA" --out "$RUN" --init "models/$MODEL.safetensors" --device "$DEVICE" \
    --minutes "$MINUTES" --steps 100000000 --threads 4 --checkpoint-every 1000 --sample-every 2000 --no-progress \
    "$@"

# 3. Export into $OUT, keeping the card's fields that training does not write (e.g. start_seeds).
cp "models/$MODEL.json" "$OUT/$MODEL.json"
"$PY" -m demo train export --data "$DATA" --out "$RUN" --export "$OUT/$MODEL" --device "$DEVICE" --threads 4 "$@"
cp "$RUN/log.csv" "$OUT/train_log.csv"
ls -l "$OUT"
# avatars64: afterwards, on a machine with the renderer, `python -m demo.train.shipping.avatars --model ... --data ...`
# restores its dataset, licence and held-out figures in the card (export writes the landscape wording).
