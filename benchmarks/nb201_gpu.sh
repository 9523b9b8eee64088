#!/usr/bin/env bash
# NAS-Bench-201 at full size on one GPU: train the hypernetwork on NB201's own network (C=16, N=5)
# and score every one of the 6,466 distinct computations, with the zero-cost proxies beside it.
#
#   bash benchmarks/nb201_gpu.sh ../shared/data/cifar10-jpeg ../shared/data/nb201/nats_tss.csv
#
# Every stage resumes: training from its checkpoint (--resume), the scoring from its stored
# chunks, so a run cut short by a time limit is continued by running the same command again.
# Sizes come from the environment, so the same script runs at toy size on a CPU (the tests do):
#   STEPS (3000), CHANNELS (16), CELLS (5), META_BATCH (8), BATCH_SIZE (64), IMAGES (5000),
#   LIMIT (empty: every computation), DEVICE (cuda), WORK (runs/nb201_gpu), PYTHON (python),
#   VAL_SIZE (empty: 5,000 held out), OUTPUT (benchmarks/results/nb201_gpu_population.json),
#   EXTRA_TRAIN (more `adwp train` flags, e.g. "--channels-last --compile"),
#   PROXIES (jacob_cov,naswot).
set -euo pipefail
DATA_ROOT=${1:?usage: nb201_gpu.sh CIFAR10_FOLDERS NB201_TABLE}
TRUTH=${2:?usage: nb201_gpu.sh CIFAR10_FOLDERS NB201_TABLE}
PYTHON=${PYTHON:-python}
WORK=${WORK:-runs/nb201_gpu}
DEVICE=${DEVICE:-cuda}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$WORK"

limit=()
if [ -n "${LIMIT:-}" ]; then limit=(--limit "$LIMIT"); fi
val=()
if [ -n "${VAL_SIZE:-}" ]; then val=(--val-size "$VAL_SIZE"); fi
# shellcheck disable=SC2086  # EXTRA_TRAIN is a list of flags
"$PYTHON" -m adwp train --space nb201 \
    --space-option "channels=${CHANNELS:-16}" --space-option "cells_per_stage=${CELLS:-5}" \
    --dataset cifar10 --data-root "$DATA_ROOT" --data-cache "$WORK/cache" \
    --steps "${STEPS:-3000}" --meta-batch "${META_BATCH:-8}" --batch-size "${BATCH_SIZE:-64}" \
    --seed 0 --device "$DEVICE" --out "$WORK/hypernet.pt" --resume --quiet "${val[@]}" \
    ${EXTRA_TRAIN:-}

"$PYTHON" "$here/nb201_population.py" --data-root "$DATA_ROOT" --truth "$TRUTH" \
    --data-cache "$WORK/cache" --generator "$WORK/hypernet.pt" --final-weights-only \
    --max-images "${IMAGES:-5000}" --proxies "${PROXIES:-jacob_cov,naswot}" --device "$DEVICE" \
    --work "$WORK/population" --output "${OUTPUT:-benchmarks/results/nb201_gpu_population.json}" \
    "${val[@]}" "${limit[@]}"
