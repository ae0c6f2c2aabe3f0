#!/usr/bin/env python3
"""Peer column of `sparseworld bench attention`: PyTorch FlexAttention on the identical block masks.

The C++ benchmark exports its masks with `--export-masks DIR`: DIR/masks.json lists each case
(heads, head dim, token counts, block (64, or 128 for the "wan128" shape), q_blocks, kv_blocks, kept blocks per row) and a raw
little-endian int32 file [heads, q_blocks, kept] of ascending KV block ids per (head, query block).
Here every kept block is a *full* block of Flex's BlockMask (no mask_mod evaluated inside it), with
Flex's block size set to ours (64 x 64 or 128 x 128), so Flex runs exactly the same block pairs as PBSA. Token
counts are padded to whole blocks, as PBSA's are (Wan: 4680 -> 4736 query, 32760 -> 32768 KV tokens).
bf16, flex_attention under torch.compile, CUDA events after warm-up, median of 30 runs, each call
queued behind a spin kernel so the events time the GPU (the C++ benchmark does the same).

Usage: python3 scripts/bench_flex.py DIR [--json FILE]
"""
import argparse
import json
import os
import time

import numpy as np
import torch
from torch.nn.attention.flex_attention import BlockMask, flex_attention

WARMUP, RUNS = 5, 30
# As the C++ benchmark: a spin kernel queued ahead of each timed call outlasts the host's enqueue
# (Python, guards and the compiled wrapper), so the events time the GPU's work, not the launch path.
# The spin is at least MIN_SPIN_MS and 4x the slowest enqueue seen in warm-up; a run whose enqueue
# still came near the spin's end is measured again.
MIN_SPIN_MS = 2.0


def spin_cycles_per_ms():
    """SM clock cycles per millisecond of torch.cuda._sleep, measured (CUDA 13 drops clockRate)."""
    cycles = 10_000_000
    torch.cuda._sleep(cycles)  # warm-up: module load
    rates = []
    for _ in range(3):  # the highest rate: a spin sized by it lasts at least as long as intended
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        torch.cuda._sleep(cycles)
        b.record()
        b.synchronize()
        rates.append(cycles / a.elapsed_time(b))
    return max(rates)


def time_ms(fn):
    warm = []
    for _ in range(WARMUP):
        t0 = time.perf_counter()
        fn()
        warm.append((time.perf_counter() - t0) * 1e3)
        torch.cuda.synchronize()
    spin_ms = max(MIN_SPIN_MS, 4 * max(warm[1:]))
    spin_cycles = int(spin_ms * spin_cycles_per_ms())
    out, exposed = [], 0
    while len(out) < RUNS:
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda._sleep(spin_cycles)
        t0 = time.perf_counter()
        a.record()
        fn()
        b.record()
        enqueue_ms = (time.perf_counter() - t0) * 1e3
        b.synchronize()
        if enqueue_ms < 0.8 * spin_ms:
            out.append(a.elapsed_time(b))
        else:  # the host was preempted: the span may include launch latency; measure again
            exposed += 1
            if exposed > RUNS:
                raise SystemExit(f"bench_flex: {exposed} runs enqueued for over 80% of the {spin_ms:.1f} ms spin")
    return sorted(out)[RUNS // 2]


def block_mask(case, ids):
    """Full blocks only: kv_num_blocks = 0 partial, full_kv_* = our kept blocks."""
    h, qb, nkv, kept = case["heads"], case["q_blocks"], case["kv_blocks"], case["kept"]
    full_idx = torch.zeros((1, h, qb, nkv), dtype=torch.int32)
    full_idx[..., :kept] = torch.from_numpy(ids).view(1, h, qb, kept)
    full_num = torch.full((1, h, qb), kept, dtype=torch.int32)
    partial_num = torch.zeros((1, h, qb), dtype=torch.int32)
    partial_idx = torch.zeros((1, h, qb, nkv), dtype=torch.int32)
    return BlockMask.from_kv_blocks(partial_num.cuda(), partial_idx.cuda(), full_num.cuda(), full_idx.cuda(),
                                    BLOCK_SIZE=(case["block"], case["block"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--json")
    args = ap.parse_args()
    cases = json.load(open(os.path.join(args.dir, "masks.json")))
    flex = torch.compile(flex_attention, dynamic=False)
    rows = []
    print(f"{'case':<14} {'Flex ms':>9} {'PBSA ms':>9} {'cuDNN ms':>9} {'PBSA vs Flex':>13}")
    for case in cases:
        ids = np.fromfile(os.path.join(args.dir, case["file"]), dtype="<i4")
        h, d, blk = case["heads"], case["head_dim"], case["block"]
        tq, tk = case["q_blocks"] * blk, case["kv_blocks"] * blk
        q = torch.randn(1, h, tq, d, device="cuda", dtype=torch.bfloat16)
        k = torch.randn(1, h, tk, d, device="cuda", dtype=torch.bfloat16)
        v = torch.randn_like(k)
        bm = block_mask(case, ids)
        # Flex's kernel tiles must divide the mask's blocks: 64 x 64 tiles for our 64-token blocks;
        # at 128-token blocks (the brief's Flex column) Flex keeps its own tile choice.
        opts = {"BLOCK_M": blk, "BLOCK_N": blk} if blk == 64 else None
        ms = time_ms(lambda: flex(q, k, v, block_mask=bm, kernel_options=opts))
        print(f"{case['name']:<14} {ms:>9.4f} {case['pbsa_ms']:>9.4f} {case['cudnn_ms']:>9.4f} {ms / case['pbsa_ms']:>12.2f}x", flush=True)
        rows.append({"name": case["name"], "flex_ms": ms, "pbsa_ms": case["pbsa_ms"], "cudnn_ms": case["cudnn_ms"]})
    if args.json:
        json.dump(rows, open(args.json, "w"), indent=2)


if __name__ == "__main__":
    main()
