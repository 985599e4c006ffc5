#!/usr/bin/env python3
"""Prints median times and `peer / routines` ratios from criterion's saved estimates.

Usage (after `cargo bench -p routines-benches`): python3 benches/ratios.py [target/criterion]
A ratio above 1.0 means routines is faster than that peer in that cell.
"""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
cells = {}
for est in root.glob("*/*/*/new/estimates.json"):
    group, contender, case = est.parts[-5], est.parts[-4], est.parts[-3]
    median_ns = json.loads(est.read_text())["median"]["point_estimate"]
    cells.setdefault((group, case), {})[contender] = median_ns

def fmt(ns):
    return f"{ns / 1e3:.1f} us" if ns >= 1e3 else f"{ns:.2f} ns"

print(f"{'group / case':38} {'routines':>11} {'peer':>12} {'median':>11} {'peer/routines':>13}")
for (group, case), by in sorted(cells.items()):
    ours = by.get("routines")
    for peer, ns in sorted(by.items()):
        if peer == "routines" or ours is None:
            continue
        print(f"{group + ' / ' + case:38} {fmt(ours):>11} {peer:>12} {fmt(ns):>11} {ns / ours:>13.2f}")
