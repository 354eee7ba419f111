#!/usr/bin/env python3
"""Turns one micro-benchmark run into the compact table run.sh prints and bench/results/micro.json.

Inputs (written by run.sh):
  --percentiles DIR  ordo-one/benchmark's `--format histogramPercentiles` export: one TSV per
                     benchmark and metric, "percentile<TAB>value", values already per operation.
  --plain FILE       PlainTiming's JSON (same operations, clock_gettime loop, no malloc interposer);
                     optional.
  --meta FILE        JSON object of run facts (build time, load average, versions) copied into the output.
  --out FILE         where micro.json goes.
"""

import argparse
import glob
import json
import os
import re
import sys

# The headline: parse + validate + normalise of a typical subscribe.sms form body.
HEADLINE = "e2e.subscribe.sms"
HEADLINE_TARGET_NS = 2000

# Request order, so the table reads like a request's way through the gateway.
ORDER = [
    "http.head.parse",
    "http.mediatype.parse",
    "form.urlencoded.decode",
    "form.multipart.decode",
    "validate.subscribe.sms",
    "rule.email",
    "rule.phone",
    "rule.juid",
    "e2e.subscribe.sms",
    "json.decode",
]

FILE_PATTERN = re.compile(r"^[^.]+\.JustGateMicro\.(?P<name>.+)\.(?P<metric>wallClock|mallocCountTotal)\.histogram\.percentiles\.tsv$")


def read_percentiles(path):
    """Maps percentile (0..100) to value for one exported TSV."""
    values = {}
    with open(path, encoding="utf-8") as handle:
        next(handle, None)  # header: "Percentile<TAB>metric (unit)"
        for line in handle:
            fields = line.split("\t")
            if len(fields) == 2:
                values[int(fields[0])] = float(fields[1])
    return values


def read_framework(directory):
    results = {}
    for path in glob.glob(os.path.join(directory, "*.histogram.percentiles.tsv")):
        match = FILE_PATTERN.match(os.path.basename(path))
        if not match:
            continue
        percentiles = read_percentiles(path)
        entry = results.setdefault(match["name"], {})
        if match["metric"] == "wallClock":
            entry["median_ns"] = percentiles.get(50)
            entry["p99_ns"] = percentiles.get(99)
        else:
            entry["mallocs_per_op"] = percentiles.get(50)
            entry["mallocs_per_op_max"] = percentiles.get(100)
    return results


def fmt(value):
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}".rstrip("0").rstrip(".")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--percentiles", required=True)
    parser.add_argument("--plain")
    parser.add_argument("--meta")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    framework = read_framework(args.percentiles)
    if not framework:
        sys.exit(f"report.py: no benchmark percentiles found in {args.percentiles}")
    plain = {}
    if args.plain and os.path.exists(args.plain):
        with open(args.plain, encoding="utf-8") as handle:
            plain = {row["name"]: row for row in json.load(handle)}
    meta = {}
    if args.meta:
        with open(args.meta, encoding="utf-8") as handle:
            meta = json.load(handle)

    names = [name for name in ORDER if name in framework or name in plain]
    names += sorted(name for name in set(framework) | set(plain) if name not in ORDER)

    rows = []
    for name in names:
        measured = framework.get(name, {})
        cross = plain.get(name, {})
        rows.append({
            "name": name,
            "summary": cross.get("summary"),
            "median_ns": measured.get("median_ns"),
            "p99_ns": measured.get("p99_ns"),
            "mallocs_per_op": measured.get("mallocs_per_op"),
            "plain_median_ns": cross.get("median_ns"),
            "plain_p99_ns": cross.get("p99_ns"),
        })

    header = ("benchmark", "median ns/op", "p99 ns/op", "mallocs/op", "plain median", "plain p99")
    table = [header] + [
        (row["name"], fmt(row["median_ns"]), fmt(row["p99_ns"]), fmt(row["mallocs_per_op"]),
         fmt(row["plain_median_ns"]), fmt(row["plain_p99_ns"]))
        for row in rows
    ]
    widths = [max(len(line[column]) for line in table) for column in range(len(header))]
    for index, line in enumerate(table):
        cells = [line[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(line[1:], widths[1:])]
        print("  ".join(cells))
        if index == 0:
            print("  ".join("-" * width for width in widths))

    headline = next((row for row in rows if row["name"] == HEADLINE), None)
    verdict = None
    if headline and headline["median_ns"] is not None:
        verdict = headline["median_ns"] <= HEADLINE_TARGET_NS
        print(f"\n{HEADLINE}: median {fmt(headline['median_ns'])} ns/op, target <= {HEADLINE_TARGET_NS} ns: "
              f"{'met' if verdict else 'NOT met'}")

    output = dict(meta)
    output.update({
        "units": {"time": "ns per operation", "mallocs": "malloc calls per operation"},
        "method": ("ordo-one/benchmark 1.38.1, wallClock + mallocCountTotal, 1000 operations per sample "
                   "(median and p99 are over per-sample averages); plain_* from PlainTiming, a clock_gettime "
                   "loop over the same operations without the malloc interposer"),
        "target": {"benchmark": HEADLINE, "median_ns_max": HEADLINE_TARGET_NS, "met": verdict},
        "benchmarks": rows,
    })
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(output, handle, indent=2)
        handle.write("\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
