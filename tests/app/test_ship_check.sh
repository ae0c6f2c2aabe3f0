#!/usr/bin/env bash
# scripts/ship_check.py on what `sparseworld eval` really writes (a tiny random model, CPU, two
# seeds): the same run against itself is no gain (KEEP), a candidate 0.5 dB better everywhere
# ships, one horizon 0.5 dB worse or a failed drift keeps the shipped model and says why; runs of
# different horizons, a file without a sparse-forcing entry and a missing file are one-line errors.
# Usage (ctest ship_check): test_ship_check.sh SPARSEWORLD SCRIPT
set -euo pipefail
sw=$1 script=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$sw" model init --config tiny --out "$dir/tiny.safetensors" >/dev/null
"$sw" eval --model "$dir/tiny.safetensors" --device cpu --methods sparse-forcing --seeds 2 --horizons 0.5,1 \
  --drift-seconds 0.1 --revisit-seconds 12 --out "$dir/ev" >/dev/null
base=$dir/ev/eval.json
# Variants of the real report: every PSNR shifted, one horizon worse, the drift verdict flipped.
edit() {  # out, python expression on m (the sparse-forcing entry) and j (the report)
  python3 - "$base" "$1" "$2" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); m = j["methods"][0]
exec(sys.argv[3])
json.dump(j, open(sys.argv[2], "w"))
PY
}
edit "$dir/better.json" 'm["rollout_psnr_last_second"] = [x + 0.5 for x in m["rollout_psnr_last_second"]]; m["revisit"]["psnr"] += 0.5'
edit "$dir/worse1.json" 'm["rollout_psnr_last_second"] = [x + 1 for x in m["rollout_psnr_last_second"]]; m["rollout_psnr_last_second"][1] -= 1.5; m["revisit"]["psnr"] += 1'
edit "$dir/drift_ok.json" 'm["drift"]["ok"] = True'
edit "$dir/drift_fail.json" 'm["drift"]["ok"] = False'
edit "$dir/other_h.json" 'j["horizons_s"] = [0.5, 2]'
edit "$dir/no_sf.json" 'm["method"] = "window"'

out=$(python3 "$script" "$base" "$base" "$dir/drift_ok.json")
echo "$out"
[[ $(tail -1 <<<"$out") == "KEEP the shipped model: mean gain +0.00 dB" ]] || { echo "FAIL: the same run is no gain"; exit 1; }
out=$(python3 "$script" "$dir/better.json" "$base" "$dir/drift_ok.json")
grep -q "^1s (mean of the last second, 2 seeds): candidate .* (+0.50 dB)$" <<<"$out" || { echo "FAIL: 1s line: $out"; exit 1; }
grep -q "^revisit: candidate .* (+0.50 dB)$" <<<"$out" || { echo "FAIL: revisit line (the out-and-back agent returns within 12 s): $out"; exit 1; }
[[ $(tail -1 <<<"$out") == SHIP ]] || { echo "FAIL: 0.5 dB better everywhere should ship: $out"; exit 1; }
out=$(python3 "$script" "$dir/worse1.json" "$base" "$dir/drift_ok.json")
[[ $(tail -1 <<<"$out") == "KEEP the shipped model: 1s -0.50 dB" ]] || { echo "FAIL: one horizon 0.5 dB worse: $out"; exit 1; }
out=$(python3 "$script" "$dir/worse1.json" "$base" "$dir/drift_ok.json" --tolerance 0.6)
[[ $(tail -1 <<<"$out") == SHIP ]] || { echo "FAIL: within --tolerance 0.6: $out"; exit 1; }
out=$(python3 "$script" "$dir/better.json" "$base" "$dir/drift_fail.json")
[[ $(tail -1 <<<"$out") == "KEEP the shipped model: drift FAIL" ]] || { echo "FAIL: drift: $out"; exit 1; }
for args in "$dir/other_h.json $base $dir/drift_ok.json:differ in horizons_s" "$dir/no_sf.json $base $dir/drift_ok.json:no sparse-forcing entry" \
  "$dir/missing.json $base $dir/drift_ok.json:'$dir/missing.json'" "$base $base $dir/drift_ok.json --tolerance x:--tolerance needs a number"; do
  # shellcheck disable=SC2086  # the arguments are a list
  if err=$(python3 "$script" ${args%%:*} 2>&1); then echo "FAIL: accepted ${args%%:*}"; exit 1; fi
  [[ $(wc -l <<<"$err") -eq 1 ]] && grep -q -- "${args#*:}" <<<"$err" || { echo "FAIL: error for ${args%%:*}: $err"; exit 1; }
done
echo PASS
