#!/usr/bin/env python3
"""Summarise a hyperfine --export-json file for bench/startup.sh.

Usage: hyperfine_summary.py RESULTS.json [--baseline NAME] [--subject NAME] [--target RATIO]

Prints mean/stddev/median/min/max in ms for every command, then the ratio
mean(subject) / mean(baseline) with PASS/FAIL against the target (ratio <= target).
Exit status is 0 whatever the ratio; 2 when the file lacks a named command.
"""

import argparse
import json
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json_file")
    parser.add_argument("--baseline", default="sqlite3-insert")
    parser.add_argument("--subject", default="xalorra-predict")
    parser.add_argument("--target", type=float, default=3.0)
    args = parser.parse_args()

    with open(args.json_file, encoding="utf-8") as f:
        results = json.load(f)["results"]

    # hyperfine stores the -n/--command-name as "command" (seconds throughout).
    by_name = {r["command"]: r for r in results}

    print(f"{'command':<20} {'mean ms':>9} {'± σ ms':>8} {'median':>8} {'min':>8} {'max':>8} {'runs':>5}")
    for r in results:
        ms = lambda key: r[key] * 1000.0 if r.get(key) is not None else float("nan")
        print(
            f"{r['command']:<20} {ms('mean'):>9.2f} {ms('stddev'):>8.2f} {ms('median'):>8.2f}"
            f" {ms('min'):>8.2f} {ms('max'):>8.2f} {len(r.get('times', [])):>5}"
        )

    missing = [n for n in (args.baseline, args.subject) if n not in by_name]
    if missing:
        print(f"error: no result named {', '.join(missing)} in {args.json_file}", file=sys.stderr)
        return 2

    ratio = by_name[args.subject]["mean"] / by_name[args.baseline]["mean"]
    verdict = "PASS" if ratio <= args.target else "FAIL"
    print(f"ratio {args.subject}/{args.baseline} = {ratio:.2f} (target <= {args.target:.1f}): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
