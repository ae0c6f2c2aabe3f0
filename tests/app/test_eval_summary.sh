#!/usr/bin/env bash
# scripts/eval_summary.py on what `sparseworld eval` really writes (a tiny random model, CPU): one
# row per method with the eval's own numbers, '-' for tests that scored no frame, and a one-line
# error naming the file for a missing file or a JSON that is not an eval report.
# Usage (ctest eval_summary): test_eval_summary.sh SPARSEWORLD SCRIPT
set -euo pipefail
sw=$1 script=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$sw" model init --config tiny --out "$dir/tiny.safetensors" >/dev/null
"$sw" eval --model "$dir/tiny.safetensors" --device cpu --methods window,sparse-forcing --seeds 1 --horizons 0.1,0.2 \
  --drift-seconds 0.1 --revisit-seconds 0.1 --out "$dir/ev" >/dev/null
out=$(python3 "$script" "$dir/ev/eval.json")
echo "$out"
[[ $(wc -l <<<"$out") -eq 2 ]] || { echo "FAIL: want 2 rows"; exit 1; }
grep -q "window .* 0.1s [0-9.]* ([0-9.]*) 0.2s [0-9.]* ([0-9.]*) | revisit - recall -" <<<"$out" || { echo "FAIL: window row"; exit 1; }
grep -q "window .* | drift 0.1s " <<<"$out" || { echo "FAIL: drift length not in the window row"; exit 1; }
grep -q "sparse-forcing" <<<"$out" || { echo "FAIL: sparse-forcing row"; exit 1; }
# The numbers are the report's: the first method's teacher-forced PSNR, as the JSON has it.
want=$(python3 -c 'import json,sys;print("%.2f" % json.load(open(sys.argv[1]))["methods"][0]["teacher_forced"]["psnr"])' "$dir/ev/eval.json")
grep -q "window .* tf $want/" <<<"$out" || { echo "FAIL: teacher-forced PSNR $want not in the window row"; exit 1; }
echo '{"horizons_s": []}' >"$dir/other.json"
for bad in "$dir/missing.json" "$dir/other.json"; do
  if err=$(python3 "$script" "$bad" 2>&1); then echo "FAIL: $bad accepted"; exit 1; fi
  grep -q "eval_summary.py: '$bad'" <<<"$err" || { echo "FAIL: error does not name $bad: $err"; exit 1; }
done
echo PASS
