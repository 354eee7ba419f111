#!/usr/bin/env python3
"""Reads the callgrind dumps `make bench-ir` took and writes bench/results/ir-latest.{md,json}.

Per target: the measured dump (part 1, taken by drive.py after the counted requests; one file per thread,
callgrind.out.1-<thread>) gives each thread's instructions (its `summary:` line) and the calls it made to
libc's allocator (the `calls=` lines under a `cfn=` naming malloc, calloc, realloc, ...). The audit writer
thread is the one that ran `AuditWriter.run` (its name, jg-audit, is not in the dump); its instructions are
reported per audit record written in the window, every other thread's (event loop, request log, signals,
main) per request. Mallocs counts calls to `malloc` alone, as `make bench`'s perf uprobe on libc's malloc
does; the other allocation calls are in the JSON.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import re
import subprocess
from collections import Counter

ALLOCATORS = {"malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc", "memalign"}
# The mangled name of the audit writer thread's loop (Sources/JustGateApp/Audit/AuditWriter.swift, `run`).
WRITER_MARKER = "11AuditWriterC3run"
TARGET_NAMES = {
    "floor": "libcurl floor (bench/curl-floor)",
    "bare": "justgate bare (no policy, audit off, request log off)",
    "full": "justgate full (site + per-number policy in memory, HMAC audit, request log, metrics, trace)",
}


def parse_dump(path):
    """One thread's dump: its instruction total, allocator calls by name, and whether it is the audit writer."""
    names = {}
    summary = None
    thread = None
    callee = None
    calls = Counter()
    writer = False

    def resolve(text):
        text = text.strip()
        match = re.match(r"\((\d+)\)(?: (.*))?$", text)
        if not match:
            return text
        if match.group(2) is not None:
            names[match.group(1)] = match.group(2)
        return names.get(match.group(1), "?")

    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.startswith("fn="):
                if WRITER_MARKER in resolve(line[3:]):
                    writer = True
            elif line.startswith("cfn="):
                callee = resolve(line[4:])
                if WRITER_MARKER in callee:
                    writer = True
            elif line.startswith("calls="):
                # A recursion depth ('2) or symbol version (@@GLIBC_2.2.5) names the same function.
                base = (callee or "").split("'")[0].split("@")[0]
                if base in ALLOCATORS and not (callee or "").endswith("@plt"):
                    calls[base] += int(line[6:].split()[0])
            elif line.startswith("summary:"):
                summary = int(line.split()[1])
            elif line.startswith("thread:"):
                thread = int(line.split()[1])
    if summary is None:
        raise SystemExit(f"{path} has no summary line: is it a callgrind dump?")
    return {"thread": thread, "ir": summary, "allocator_calls": dict(calls), "audit_writer": writer}


def measure(name, directory):
    with open(os.path.join(directory, "drive.json")) as handle:
        drive = json.load(handle)
    files = sorted(glob.glob(os.path.join(directory, "callgrind.out.1-*")))
    if not files:
        raise SystemExit(f"{name}: no measured dump in {directory} (callgrind.out.1-*)")
    if drive["requests_2xx"] != drive["requests"] or drive["warmup_2xx"] != drive["warmup"]:
        raise SystemExit(f"{name}: not every answer was 2xx ({drive}); see the logs in {directory}")
    threads = [parse_dump(path) for path in files]
    requests = drive["requests"]
    writers = [t for t in threads if t["audit_writer"]]
    loops_ir = sum(t["ir"] for t in threads if not t["audit_writer"])
    allocs = Counter()
    for t in threads:
        allocs.update(t["allocator_calls"])
    records = drive.get("audit_records")
    result = {
        "requests": requests,
        "warmup": drive["warmup"],
        "seconds_under_callgrind": drive["seconds"],
        "ir_total": sum(t["ir"] for t in threads),
        "ir_per_request": loops_ir / requests,
        "mallocs_per_request": allocs["malloc"] / requests,
        "allocator_calls_per_request": {k: v / requests for k, v in sorted(allocs.items())},
        "threads": threads,
        "audit_records": records,
        "audit_writer_ir_per_record": None,
    }
    if writers:
        writer_ir = sum(t["ir"] for t in writers)
        if not records:
            raise SystemExit(f"{name}: an audit writer thread ran but no audit record was written in the window")
        result["audit_writer_ir"] = writer_ir
        result["audit_writer_ir_per_record"] = writer_ir / records
    return result


def command_output(arguments):
    try:
        return subprocess.run(arguments, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine():
    model = ""
    for line in command_output(["lscpu"]).splitlines():
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
    return {
        "cpu_model": model,
        "nproc": os.cpu_count(),
        "kernel": platform.release(),
        "valgrind": command_output(["valgrind", "--version"]),
        "libcurl": command_output(["curl-config", "--version"]),
        "justgate_commit": command_output(["git", "rev-parse", "--short", "HEAD"]),
        # Whether the sources the binary is built from differ from the commit (docs and bench files do not count).
        "justgate_tree_dirty": bool(command_output(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                                    "Sources", "Package.swift", "Package.resolved"])),
    }


def thousands(value):
    return f"{value / 1000:,.1f}k"


def markdown(results, info, date):
    floor = results.get("floor")
    lines = [
        "# Instructions per request (make bench-ir)",
        "",
        f"{date}, {info['cpu_model']} ({info['nproc']} cores), kernel {info['kernel']}, {info['valgrind']}, "
        f"{info['libcurl']}, justgate {info['justgate_commit']}{' (uncommitted changes)' if info['justgate_tree_dirty'] else ''}.",
        "",
    ]
    any_target = next(iter(results.values()))
    lines += [
        f"One keep-alive connection, {any_target['warmup']:,} warm-up then {any_target['requests']:,} counted "
        "`subscribe.sms` requests, plain-HTTP nginx upstream, one event loop, counters zeroed between; "
        "Ir summed over every thread except the audit writer, which is reported per record.",
        "",
        "| target | Ir per request | vs floor | mallocs per request | audit writer Ir per record |",
        "|---|---|---|---|---|",
    ]
    for name in ("floor", "bare", "full"):
        if name not in results:
            continue
        r = results[name]
        ratio = f"{r['ir_per_request'] / floor['ir_per_request']:.2f}×" if floor else "–"
        writer = thousands(r["audit_writer_ir_per_record"]) if r["audit_writer_ir_per_record"] else "–"
        lines.append(f"| {TARGET_NAMES[name]} | {thousands(r['ir_per_request'])} | {ratio} | "
                     f"{r['mallocs_per_request']:.1f} | {writer} |")
    lines += ["", "Per thread (Ir over the counted requests; the writer's per record written in the window):", ""]
    for name, r in results.items():
        parts = []
        for t in r["threads"]:
            if t["ir"] == 0:
                continue
            label = "audit writer" if t["audit_writer"] else f"thread {t['thread']}"
            parts.append(f"{label} {thousands(t['ir'] / r['requests'])}/req")
        lines.append(f"- {name}: " + ", ".join(parts) +
                     (f"; {r['audit_records']:,} audit records" if r["audit_records"] is not None else ""))
    lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", required=True, help="lines of '<target> <folder>'")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--justgate-bin", default="")
    parser.add_argument("--floor-bin", default="")
    args = parser.parse_args()
    results = {}
    with open(args.targets) as handle:
        for line in handle:
            if line.strip():
                name, directory = line.split(maxsplit=1)
                results[name] = measure(name, directory.strip())
    if not results:
        raise SystemExit("no target was measured")
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    info = machine()
    text = markdown(results, info, date)
    with open(os.path.join(args.out_dir, "ir-latest.md"), "w") as handle:
        handle.write(text)
    with open(os.path.join(args.out_dir, "ir-latest.json"), "w") as handle:
        json.dump({"date": date, "machine": info, "justgate_bin": args.justgate_bin, "targets": results}, handle, indent=1)
        handle.write("\n")
    print(text)


if __name__ == "__main__":
    main()
