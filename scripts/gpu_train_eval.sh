#!/usr/bin/env bash
# One device call that trains a candidate model from the shipped one and runs the evals that decide
# whether it ships, inside the device's 10-minute command limit. The device machine starts bare and
# anything not brought back is lost with it (and a new session's checkout has no ignored folders):
# so build, train and measure happen in one call, and the shards come back for shipping.
#   1. builds the core CLI (no SDL2/Vulkan/FFmpeg) unless build/gpu/sparseworld exists (warm machine);
#   2. `train --init` the shipped model for TRAIN_SECONDS with TRAIN_ARGS (diffusion forcing;
#      TRAIN_SECONDS=0: no training, the evals measure BASE_MODEL);
#   3. in parallel on the GPU: sparse-forcing at 1/5/20/60 s on SEEDS seeds (3) with the 60-s
#      revisit, the same for the shipped model (SHIPPED_MODEL), the candidate's drift over
#      DRIFT_SECONDS (300; the check the shipped model passes),
#      window at 1/5/20/60 s with the 120-s drift, and teacher-forced + action fidelity on 16 seeds;
#      with SF_ALT_FLAGS (e.g. "--sf-memory-distance 12") also sparse-forcing with those flags at
#      1/5/20/60 s, the 60-s revisit and a 120-s drift (a knob tried on the same candidate);
#      with EXTRA_EVALS ("name:eval flags;..."), those evals of the candidate too;
#      EVALS=0: no evals (a long training call; evaluate in the next call on the warm machine with
#      TRAIN_SECONDS=0 BASE_MODEL=<this RUN_DIR>/model-00001-of-00002.safetensors, whose evals then
#      get the whole 10 minutes); WINDOW_SEEDS (SEEDS): seeds of the window eval (0: none);
#   4. prints scripts/eval_summary.py's table and scripts/ship_check.py's decision (candidate vs
#      shipped); OUT gets the shards (OUT/model), loss.csv, eval.tgz.
# Setup (here, on Debian 12): scripts/gpu_deps.sh .deps, and ignore .deps in .git/info/exclude;
# then device `run` with carry [".deps"]: `OUT_DIR=$OUT scripts/gpu_train_eval.sh`.
# Test: run it; every stage prints its seconds, and a stage that fails says which.
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
elapsed() { echo $(($(date +%s) - start)); }
out=${OUT_DIR:?set OUT_DIR to the folder that comes back, the device \$OUT}
deps=${DEPS:-.deps}
train_seconds=${TRAIN_SECONDS:-230}
budget=${BUDGET:-585}  # seconds for the whole script: the evals get what training leaves
train_args=${TRAIN_ARGS:---stages df --df-steps 900 --batch 8 --clip-frames 32 --lr 1.5e-4 --warmup 30 --ema-decay 0.995}
run_dir=${RUN_DIR:-/tmp/candidate}
base_model=${BASE_MODEL:-assets/model-00001-of-00002.safetensors}
device=${DEVICE:-cuda}  # cpu: a local smoke test of this script with a tiny BASE_MODEL
sw=$PWD/build/gpu/sparseworld
for var in BUDGET DRIFT_SECONDS; do
  val=${!var:-1}
  [[ $val =~ ^[0-9]+$ && $val -gt 0 ]] || { echo "gpu_train_eval.sh: $var='$val' is not a whole number of seconds > 0" >&2; exit 1; }
done
[[ $train_seconds =~ ^[0-9]+$ ]] || { echo "gpu_train_eval.sh: TRAIN_SECONDS='$train_seconds' is not a whole number of seconds (0: evaluate BASE_MODEL)" >&2; exit 1; }
# Checked before training: a typo here must not cost a training run.
seeds=${SEEDS:-3}
[[ $seeds =~ ^[1-9][0-9]*$ ]] || { echo "gpu_train_eval.sh: SEEDS='$seeds' is not a whole number >= 1" >&2; exit 1; }
window_seeds=${WINDOW_SEEDS:-$seeds}
[[ $window_seeds =~ ^[0-9]+$ ]] || { echo "gpu_train_eval.sh: WINDOW_SEEDS='$window_seeds' is not a whole number (0: no window eval)" >&2; exit 1; }
evals=${EVALS:-1}
[[ $evals == 0 || $evals == 1 ]] || { echo "gpu_train_eval.sh: EVALS='$evals' is not 0 (train only) or 1" >&2; exit 1; }
((evals == 1 || train_seconds > 0)) || { echo "gpu_train_eval.sh: EVALS=0 with TRAIN_SECONDS=0 does nothing" >&2; exit 1; }
# train resumes a checkpoint in its --out: a finished run there would "train" for 0 steps.
if [[ -e $run_dir && -z ${RESUME:-} ]]; then
  echo "gpu_train_eval.sh: RUN_DIR '$run_dir' exists (a warm machine's earlier run): set RUN_DIR to a new folder, or RESUME=1 to resume it" >&2
  exit 1
fi

if [[ ! -x $sw ]]; then
  [[ -d $deps ]] || { echo "gpu_train_eval.sh: no '$deps' folder of .deb files (scripts/gpu_deps.sh makes it)" >&2; exit 1; }
  mkdir -p /tmp/deps && for f in "$deps"/*.deb; do dpkg -x "$f" /tmp/deps; done
  SW_DEPS_PREFIX=/tmp/deps/usr scripts/gpu_configure.sh build/gpu >/tmp/configure.log 2>&1 || { tail -20 /tmp/configure.log; exit 1; }
  cmake --build build/gpu -j "$(nproc)" --target sparseworld >/tmp/build.log 2>&1 || { grep -m5 -A5 error /tmp/build.log; exit 1; }
  echo "build: done at $(elapsed) s"
fi
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null

if ((train_seconds == 0)); then
  # No training: the evals measure BASE_MODEL itself (a knob tried on the shipped model).
  mkdir -p "$run_dir"
  model=$base_model
else
  # shellcheck disable=SC2086  # train_args is a list of flags
  "$sw" train --init "$base_model" --out "$run_dir" --device "$device" $train_args --time-limit "$train_seconds" --data-threads "$(($(nproc) - 2))" \
    >"$out/train.log" 2>&1
  rc=$?
  tr '\r' '\n' <"$out/train.log" | grep -v '^\s*$' | tail -3
  echo "train: rc $rc at $(elapsed) s"
  [[ $rc -eq 0 ]] || exit 1
  mkdir -p "$out/model" && cp "$run_dir"/model*.safetensors "$out/model/" && cp "$run_dir/loss.csv" "$run_dir/loss.png" "$out/"
  model=$run_dir/model-00001-of-00002.safetensors
  [[ -f $model ]] || model=$run_dir/model.safetensors
fi

if ((evals == 0)); then
  echo "evals: none (EVALS=0); total: $(elapsed) s"
  exit 0
fi
eval_seconds=$((budget - $(elapsed)))
echo "evals: $eval_seconds s"
((eval_seconds > 0)) || { echo "gpu_train_eval.sh: no time left for the evals: BUDGET=$budget s is spent (raise BUDGET or lower TRAIN_SECONDS)" >&2; exit 1; }
eval_dir=$run_dir/eval && mkdir -p "$eval_dir"
evm() {  # model, name, then eval flags
  local m=$1 name=$2
  shift 2
  timeout "$eval_seconds" "$sw" eval --model "$m" --device "$device" --out "$eval_dir/$name" "$@" >"$eval_dir/$name.log" 2>&1 &
}
ev() { evm "$model" "$@"; }
# Rollouts on SEEDS seeds (3): one frame of one seed swings by dB (session 15), and the shipped
# model runs the same eval in this call, so the ship decision compares like with like.
shipped=${SHIPPED_MODEL:-assets/model-00001-of-00002.safetensors}
sf_flags="--seeds $seeds --methods sparse-forcing --horizons 1,5,20,60 --drift-seconds 0.1 --revisit-seconds 60"
# shellcheck disable=SC2086  # the flags are a list
ev sf $sf_flags
ev sf_drift --seeds 1 --methods sparse-forcing --horizons 1 --drift-seconds "${DRIFT_SECONDS:-300}" --revisit-seconds 0.1
((window_seeds > 0)) && ev window --seeds "$window_seeds" --methods window --horizons 1,5,20,60 --drift-seconds 120 --revisit-seconds 60
# Action fidelity scores 14 frames per seed: 16 seeds (224 frames) for a standard error ~2 points.
ev teacher16 --seeds 16 --methods window --horizons 0.1 --drift-seconds 0.1 --revisit-seconds 0.1
names="sf sf_drift teacher16"
((window_seeds > 0)) && names+=" window"
if [[ "$(realpath -m "$model")" != "$(realpath -m "$shipped")" ]]; then
  # shellcheck disable=SC2086
  evm "$shipped" shipped_sf $sf_flags
  names+=" shipped_sf"
fi
# shellcheck disable=SC2086  # SF_ALT_FLAGS is a list of flags
if [[ -n ${SF_ALT_FLAGS:-} ]]; then
  ev sf_alt --seeds "$seeds" --methods sparse-forcing --horizons 1,5,20,60 --drift-seconds 120 --revisit-seconds 60 $SF_ALT_FLAGS
  names+=" sf_alt"
fi
# EXTRA_EVALS="name:eval flags;name:eval flags": more evals of the same model side by side (e.g.
# the 300-s drift at another --context-noise); each name is a folder of the results.
IFS=';' read -ra extra <<<"${EXTRA_EVALS:-}"
for spec in "${extra[@]}"; do
  [[ -z ${spec// /} ]] && continue
  name=${spec%%:*}
  [[ $spec == *:* && $name =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]] || { echo "gpu_train_eval.sh: EXTRA_EVALS entry '$spec' is not 'name:flags' (name of letters, digits, _ . -, not starting with .)" >&2; continue; }
  [[ " $names " != *" $name "* ]] || { echo "gpu_train_eval.sh: EXTRA_EVALS name '$name' is taken (by: $names): skipped" >&2; continue; }
  # shellcheck disable=SC2086  # the flags are a list
  ev "$name" ${spec#*:}
  names+=" $name"
done
wait
for name in $names; do
  [[ -f $eval_dir/$name/eval.json ]] || { echo "eval $name: no eval.json (timed out or failed):"; tail -3 "$eval_dir/$name.log"; }
done
(cd "$eval_dir" && tar czf "$out/eval.tgz" ./*.log ./*/*.json ./*/*.png 2>/dev/null)
python3 scripts/eval_summary.py "$eval_dir"/*/eval.json
if [[ -f $eval_dir/shipped_sf/eval.json && -f $eval_dir/sf/eval.json && -f $eval_dir/sf_drift/eval.json ]]; then
  echo "ship decision (scripts/ship_check.py; sf_alt's flags are not play's defaults, so only sf decides):"
  python3 scripts/ship_check.py "$eval_dir/sf/eval.json" "$eval_dir/shipped_sf/eval.json" "$eval_dir/sf_drift/eval.json"
elif [[ " $names " == *" shipped_sf "* ]]; then
  echo "ship decision: none (sf, shipped_sf or sf_drift has no eval.json: see above)"
fi
echo "total: $(elapsed) s"
