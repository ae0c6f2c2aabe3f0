#!/usr/bin/env python3
"""One line per method of one or more `sparseworld eval` JSON files (eval.json), in the columns of
docs/BENCHMARKS.md's eval tables: teacher-forced PSNR/SSIM, action fidelity, rollout PSNR per
horizon (and the mean over the second before it), revisit and recall PSNR, drift verdict with its contrast (std min) and motion.

Usage: python3 scripts/eval_summary.py FILE.json [FILE.json ...]
Test: tests/app/test_eval_summary.sh (ctest eval_summary) runs it on a JSON that `eval` wrote.
"""
import json
import os
import sys


def fmt(x, digits=2):
    return "-" if x is None else f"{x:.{digits}f}"


def scored(test):
    """PSNR (frames) of the revisit or recall test; '-' where it scored no frame (not run)."""
    return f"{fmt(test['psnr'])} ({test['frames']})" if test["frames"] > 0 else "-"


def rows(path):
    try:
        with open(path) as f:
            report = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise SystemExit(f"eval_summary.py: '{path}': {e}")
    if not isinstance(report, dict) or not isinstance(report.get("methods"), list):
        raise SystemExit(f"eval_summary.py: '{path}': no 'methods' list (not an eval.json?)")
    horizons = report.get("horizons_s", [])
    # Older eval.json files lack the run lengths: print '?' for them.
    drift_s = report.get("drift_seconds")
    drift_len = "?" if drift_s is None else f"{drift_s:g}s"
    name = os.path.basename(os.path.dirname(os.path.abspath(path))) or path
    for m in report["methods"]:
        try:
            tf = m["teacher_forced"]
            psnr = m["rollout_psnr"]
            d = m["drift"]
            # With the mean of the last second before each horizon in brackets, where the
            # eval.json has it (since session 15): one frame's PSNR swings by dB.
            last = m.get("rollout_psnr_last_second") or [None] * len(psnr)
            roll = " ".join(f"{h:g}s {fmt(p)}" + ("" if l is None else f" ({fmt(l)})") for h, p, l in zip(horizons, psnr, last))
            yield (f"{name:14s} {m['method']:15s} tf {fmt(tf['psnr'])}/{fmt(tf['ssim'], 3)} (tok {fmt(tf['tokenizer_psnr'])})"
                   f" act {100 * m['action_accuracy']:.1f}% | {roll} | revisit {scored(m['revisit'])} recall {scored(m['recall'])}"
                   f" | drift {drift_len} {'ok' if d['ok'] else 'FAIL'} mean {fmt(d['mean_range'][0], 1)}-{fmt(d['mean_range'][1], 1)}"
                   f" (truth {fmt(d['truth_mean_range'][0], 1)}-{fmt(d['truth_mean_range'][1], 1)})"
                   f" std min {fmt(d['std_min'], 1)} ({fmt(d['truth_std_min'], 1)}) motion {fmt(d['motion'], 1)} ({fmt(d['truth_motion'], 1)})"
                   f" | {fmt(m['ms_per_chunk'], 1)} ms/chunk")
        except (KeyError, TypeError, IndexError, ValueError) as e:
            raise SystemExit(f"eval_summary.py: '{path}': a method entry is missing or has a bad field: {e!r}")


def main(argv):
    if len(argv) < 2:
        raise SystemExit("usage: eval_summary.py FILE.json [FILE.json ...]")
    for path in argv[1:]:
        for line in rows(path):
            print(line)


if __name__ == "__main__":
    main(sys.argv)
