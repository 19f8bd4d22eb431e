#!/usr/bin/env bash
# The GPU check, for the first machine with an NVIDIA GPU, in under 10 minutes:
#   bash scripts/gpu-check.sh                      # one GPU pool (nnlab's default on a GPU)
#   GPU_CHECK_LAYOUT=mixed bash scripts/gpu-check.sh   # the GPU takes the LSTMs, CPU workers
#                                                      # the lighter runs (a local Dask cluster)
# It sets up `.[gpu,cluster]` (in GPU_CHECK_VENV, default .venv-gpu; an existing venv that has
# them is used as it is, so the check also runs offline), times `nnlab build` with the default
# plan for what is left of the budget (SIGINT at the end: finished runs are kept, the JSON says
# how many of the plan's runs were done), then writes the figures (python -m nnlab.gpucheck):
# runs done and on the GPU, fit seconds per model, and whether every LSTM run took cuDNN's
# kernel (`lstm_cudnn` in run.json). Exit 0: the check passed; 1: a problem the JSON names;
# 2: no GPU here, or no venv could be set up. GPU_CHECK_SYSTEM_DEPS=0 skips the system packages.
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET=${GPU_CHECK_SECONDS:-570}            # everything, set-up included
OUT=${GPU_CHECK_OUT:-build/gpu-check.json}
VENV=${GPU_CHECK_VENV:-.venv-gpu}
LAYOUT=${GPU_CHECK_LAYOUT:-pool}
PROFILE=${GPU_CHECK_PROFILE:-full}
export NNLAB_BUILD_DIR=${NNLAB_BUILD_DIR:-build/gpu-check}
started=$(date +%s)

if ! nvidia-smi -L >/dev/null 2>&1; then
    echo "gpu-check: no NVIDIA GPU here (nvidia-smi found none); nothing to check" >&2
    exit 2
fi
case "$LAYOUT" in pool|mixed) ;; *) echo "gpu-check: GPU_CHECK_LAYOUT is pool or mixed" >&2; exit 2;; esac

# .[gpu] (TensorFlow with CUDA and cuDNN as wheels) and .[cluster] (Dask, for the mixed layout)
installed='import importlib.util as u, sys; sys.exit(any(u.find_spec(m) is None for m in sys.argv[1:]))'
if ! "$VENV/bin/python" -c "$installed" tensorflow keras distributed nnlab >/dev/null 2>&1; then
    test -x "$VENV/bin/python" || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -e '.[gpu,cluster]' || {
        echo "gpu-check: could not install .[gpu,cluster] into $VENV" >&2
        exit 2
    }
fi
# WeasyPrint's system libraries, for the build's render (the training figures stand without)
if [ "${GPU_CHECK_SYSTEM_DEPS:-1}" = 1 ]; then
    bash scripts/system-deps.sh >&2 || echo "gpu-check: system packages missing; the render may fail" >&2
fi
setup_done=$(date +%s)

cluster=()
helpers=()
stop_helpers() { for pid in "${helpers[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop_helpers EXIT
if [ "$LAYOUT" = mixed ]; then
    # one worker on the GPU (it advertises gpus only, so it takes the LSTMs), one per core
    # left on the CPU (cores=1 each, CUDA hidden) for the lighter runs
    scheduler=$(mktemp -d)/scheduler.json
    "$VENV/bin/dask" scheduler --scheduler-file "$scheduler" --no-dashboard >/dev/null 2>&1 &
    helpers+=($!)
    for _ in $(seq 60); do test -s "$scheduler" && break; sleep 1; done
    CUDA_VISIBLE_DEVICES=$(nvidia-smi --query-gpu=uuid --format=csv,noheader | head -1) \
        "$VENV/bin/dask" worker --scheduler-file "$scheduler" --nthreads 1 --resources gpus=1 \
        --no-dashboard >/dev/null 2>&1 &
    helpers+=($!)
    cpu_workers=$(( $(nproc) > 3 ? $(nproc) - 2 : 1 ))
    CUDA_VISIBLE_DEVICES= "$VENV/bin/dask" worker --scheduler-file "$scheduler" --nthreads 1 \
        --nworkers "$cpu_workers" --resources cores=1 --no-dashboard >/dev/null 2>&1 &
    helpers+=($!)
    cluster=(--cluster "$("$VENV/bin/python" -c "import json,sys; print(json.load(open(sys.argv[1]))['address'])" "$scheduler")")
fi

left=$(( BUDGET - ($(date +%s) - started) - 20 ))    # 20 s for the figures
[ "$left" -ge 1 ] || left=1
build_start=$(date +%s)
set +e
timeout --signal=INT --kill-after=30 "$left" \
    "$VENV/bin/nnlab" build --profile "$PROFILE" --quiet --yes "${cluster[@]}"
build_exit=$?
set -e
build_end=$(date +%s)
[ "$build_exit" -eq 124 ] && echo "gpu-check: the build reached the budget ($left s): stopped" >&2

"$VENV/bin/python" -m nnlab.gpucheck --out "$OUT" --profile "$PROFILE" --layout "$LAYOUT" \
    --budget-seconds "$BUDGET" --setup-seconds $(( setup_done - started )) \
    --build-seconds $(( build_end - build_start )) --build-exit "$build_exit"
