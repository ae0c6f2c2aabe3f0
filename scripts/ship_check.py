#!/usr/bin/env python3
"""Whether a candidate model ships: its sparse-forcing eval against the shipped model's, measured in
the same device call with the same flags (scripts/gpu_train_eval.sh runs both), and its long
drift run.

The rule (issue 7's tests; one frame per horizon swings by dB, so the means over the last second
before each horizon, over the seeds, decide):
  - at every horizon the candidate's last-second mean is at most TOLERANCE dB below the shipped one,
  - the candidate's mean over the horizons and the revisit is above the shipped one's,
  - the revisit (out-and-back, after the views left the window) is at most TOLERANCE dB below,
  - the candidate's drift run passes (no collapse to grey, static or a frozen frame).
Prints one line per comparison and a last line "SHIP" or "KEEP the shipped model: <reasons>";
exits 0 either way, 2 on a bad file.

Usage: python3 scripts/ship_check.py CANDIDATE.json SHIPPED.json DRIFT.json [--tolerance DB]
Test: tests/app/test_ship_check.sh (ctest ship_check) on a real eval.json of a tiny model.
"""
import json
import sys

DEFAULT_TOLERANCE_DB = 0.2


def fail(msg):
    print(f"ship_check.py: {msg}", file=sys.stderr)
    sys.exit(2)


def sparse_forcing(path):
    """The sparse-forcing entry of an eval.json, with the run's horizons and seeds."""
    try:
        with open(path) as f:
            report = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        fail(f"'{path}': {e}")
    if not isinstance(report, dict) or not isinstance(report.get("methods"), list):
        fail(f"'{path}': no 'methods' list (not an eval.json?)")
    found = [m for m in report["methods"] if isinstance(m, dict) and m.get("method") == "sparse-forcing"]
    if not found:
        fail(f"'{path}': no sparse-forcing entry (eval --methods sparse-forcing)")
    m = found[0]
    last = m.get("rollout_psnr_last_second")
    horizons = report.get("horizons_s")
    if not isinstance(last, list) or not isinstance(horizons, list) or len(last) != len(horizons):
        fail(f"'{path}': no rollout_psnr_last_second per horizon (an eval.json older than session 15?)")
    if not all(isinstance(x, (int, float)) for x in last):
        fail(f"'{path}': rollout_psnr_last_second holds a non-number: {last}")
    rev = m.get("revisit")
    if not isinstance(rev, dict) or not isinstance(rev.get("psnr"), (int, float)) or not isinstance(rev.get("frames"), int):
        fail(f"'{path}': no revisit psnr/frames numbers")
    return report, m


def main(argv):
    args = list(argv[1:])
    tolerance = DEFAULT_TOLERANCE_DB
    if "--tolerance" in args:
        i = args.index("--tolerance")
        try:
            tolerance = float(args[i + 1])
        except (IndexError, ValueError):
            fail("--tolerance needs a number of dB")
        if not tolerance >= 0:
            fail(f"--tolerance {tolerance}: must be >= 0")
        del args[i:i + 2]
    if len(args) != 3:
        fail("usage: ship_check.py CANDIDATE.json SHIPPED.json DRIFT.json [--tolerance DB]")
    cand_path, ship_path, drift_path = args
    cand_report, cand = sparse_forcing(cand_path)
    ship_report, ship = sparse_forcing(ship_path)
    try:
        with open(drift_path) as f:
            drift_report = json.load(f)
        drift = [m for m in drift_report["methods"] if m.get("method") == "sparse-forcing"][0]["drift"]
        drift_ok = bool(drift["ok"])
    except (OSError, json.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError) as e:
        fail(f"'{drift_path}': no sparse-forcing drift verdict: {e!r}")
    for key in ("horizons_s", "seeds", "revisit_seconds", "revisit_agent", "sampler"):
        if cand_report.get(key) != ship_report.get(key):
            fail(f"'{cand_path}' and '{ship_path}' differ in {key} ({cand_report.get(key)} vs {ship_report.get(key)}): not the same runs")

    reasons, gains = [], []
    for h, c, s in zip(cand_report["horizons_s"], cand["rollout_psnr_last_second"], ship["rollout_psnr_last_second"]):
        gains.append(c - s)
        print(f"{h:g}s (mean of the last second, {cand_report['seeds']} seeds): candidate {c:.2f} shipped {s:.2f} ({c - s:+.2f} dB)")
        if c < s - tolerance:
            reasons.append(f"{h:g}s {c - s:+.2f} dB")
    c_rev, s_rev = cand["revisit"]["psnr"], ship["revisit"]["psnr"]
    if cand["revisit"]["frames"] > 0 and ship["revisit"]["frames"] > 0:
        gains.append(c_rev - s_rev)
        print(f"revisit: candidate {c_rev:.2f} shipped {s_rev:.2f} ({c_rev - s_rev:+.2f} dB)")
        if c_rev < s_rev - tolerance:
            reasons.append(f"revisit {c_rev - s_rev:+.2f} dB")
    mean_gain = sum(gains) / len(gains) if gains else 0.0
    print(f"mean gain over the horizons and the revisit: {mean_gain:+.2f} dB")
    if mean_gain <= 0:
        reasons.append(f"mean gain {mean_gain:+.2f} dB")
    print(f"drift ({drift_path}): {'ok' if drift_ok else 'FAIL'}")
    if not drift_ok:
        reasons.append("drift FAIL")
    print("SHIP" if not reasons else "KEEP the shipped model: " + ", ".join(reasons))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
