#!/usr/bin/env python3
"""Prints median times and `peer / routines` ratios from criterion's saved estimates.

Usage (after `cargo bench -p routines-benches`): python3 benches/ratios.py [ROOT ...]
(ROOT: a `target/criterion` directory, the default; copy it aside after each run to keep it).
A ratio above 1.0 means routines is faster than that peer in that cell.

With several roots (several runs of the same bench), prints each run's ratio per cell and
peer, then the median of those ratios: one run's cell can land in a slow stretch of the
machine for one contender only, since criterion runs the contenders of a group one after
the other.
"""
import json
import pathlib
import statistics
import sys


def load(root):
    cells = {}
    for est in pathlib.Path(root).glob("*/*/*/new/estimates.json"):
        group, contender, case = est.parts[-5], est.parts[-4], est.parts[-3]
        median_ns = json.loads(est.read_text())["median"]["point_estimate"]
        cells.setdefault((group, case), {})[contender] = median_ns
    return cells


def fmt(ns):
    return f"{ns / 1e3:.1f} us" if ns >= 1e3 else f"{ns:.2f} ns"


def one_run(cells):
    print(f"{'group / case':38} {'routines':>11} {'peer':>12} {'median':>11} {'peer/routines':>13}")
    for (group, case), by in sorted(cells.items()):
        ours = by.get("routines")
        for peer, ns in sorted(by.items()):
            if peer == "routines" or ours is None:
                continue
            print(f"{group + ' / ' + case:38} {fmt(ours):>11} {peer:>12} {fmt(ns):>11} {ns / ours:>13.2f}")


def several_runs(runs):
    ratios = {}
    for cells in runs:
        for (group, case), by in cells.items():
            ours = by.get("routines")
            for peer, ns in by.items():
                if peer != "routines" and ours is not None:
                    ratios.setdefault((group, case, peer), []).append(ns / ours)
    print(f"{'group / case':38} {'peer':>12} {'median':>7}  each run")
    for (group, case, peer), each in sorted(ratios.items()):
        runs_text = " ".join(f"{r:.2f}" for r in each)
        median = statistics.median(each)
        print(f"{group + ' / ' + case:38} {peer:>12} {median:>7.2f}  {runs_text}")


roots = sys.argv[1:] or ["target/criterion"]
if len(roots) == 1:
    one_run(load(roots[0]))
else:
    several_runs([load(root) for root in roots])
