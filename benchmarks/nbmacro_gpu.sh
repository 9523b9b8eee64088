#!/usr/bin/env bash
# NAS-Bench-Macro at full width on one GPU: the hypernetwork and the supernet trained on the
# benchmark's own network (stem 32, stages 64/128/256, head 1280), every method on both samples.
#
#   bash benchmarks/nbmacro_gpu.sh ../shared/data/cifar10-jpeg \
#       ../shared/data/nasbench-macro/nasbench_macro_cifar10.csv
#
# benchmarks/nbmacro.py resumes every stage, so a run cut short by a time limit is continued by
# running the same command again. Sizes come from the environment, so the same script runs at
# toy size on a CPU (the tests do):
#   STEPS (3000), STEM (32), CHANNELS (64,128,256), HEAD (1280), META_BATCH (8), BATCH_SIZE (64),
#   IMAGES (5000), SAMPLE (200), SELECT (100), METHODS (every one), DEVICE (cuda),
#   WORK (runs/nbmacro_gpu), PYTHON (python), VAL_SIZE (empty: 5,000 held out),
#   OUTPUT (benchmarks/results/nbmacro_gpu.json).
set -euo pipefail
DATA_ROOT=${1:?usage: nbmacro_gpu.sh CIFAR10_FOLDERS NBMACRO_TABLE}
TRUTH=${2:?usage: nbmacro_gpu.sh CIFAR10_FOLDERS NBMACRO_TABLE}
PYTHON=${PYTHON:-python}
WORK=${WORK:-runs/nbmacro_gpu}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$WORK"

extra=()
if [ -n "${VAL_SIZE:-}" ]; then extra+=(--val-size "$VAL_SIZE"); fi
if [ -n "${METHODS:-}" ]; then extra+=(--methods "$METHODS"); fi
"$PYTHON" "$here/nbmacro.py" --data-root "$DATA_ROOT" --truth "$TRUTH" \
    --data-cache "$WORK/cache" --work "$WORK/bench" --device "${DEVICE:-cuda}" \
    --stem-channels "${STEM:-32}" --channels "${CHANNELS:-64,128,256}" \
    --head-channels "${HEAD:-1280}" --steps "${STEPS:-3000}" --meta-batch "${META_BATCH:-8}" \
    --batch-size "${BATCH_SIZE:-64}" --max-images "${IMAGES:-5000}" \
    --sample "${SAMPLE:-200}" --select "${SELECT:-100}" \
    --output "${OUTPUT:-benchmarks/results/nbmacro_gpu.json}" --quiet "${extra[@]}"
