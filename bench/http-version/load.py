#!/usr/bin/env python3
"""bench/http-version's client and report: sends a fixed number of subscribe.sms calls over N keep-alive
site connections while perf counts justgate's system calls and /proc its CPU time; reads a callgrind pass's
dumps; writes bench/results/http-version.{md,json}.

Modes:
  --port P --pid PID --site-key K --version V --connections N --calls C   one native run, one JSON line out
  --callgrind-dir DIR --version V                                         one callgrind pass, one JSON line out
  --report RESULTS.jsonl --out-dir DIR                                    the tables
"""
import argparse
import datetime
import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ir"))
import drive  # noqa: E402  (bench/ir/drive.py: the request bytes and a keep-alive connection)
import report  # noqa: E402  (bench/ir/report.py: reading callgrind dumps)

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def native(args):
    request = drive.request_bytes(args.port, args.site_key)
    connections = [drive.Connection(args.port, 30.0) for _ in range(args.connections)]
    # Warm-up: every connection, so the upstream connections exist before counting.
    for connection in connections:
        drive.send(connection, request, 50)
    share = [args.calls // args.connections + (1 if i < args.calls % args.connections else 0) for i in range(args.connections)]
    good = [0] * args.connections
    perf = subprocess.Popen(["perf", "stat", "-x", ",", "-e", "raw_syscalls:sys_enter", "-p", str(args.pid)],
                            stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)  # perf attaches
    cpu_before = cpu_seconds(args.pid)
    started = time.monotonic()

    def run(index):
        good[index] = drive.send(connections[index], request, share[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    cpu = cpu_seconds(args.pid) - cpu_before
    perf.send_signal(signal.SIGINT)
    _, err = perf.communicate(timeout=30)
    syscalls = None
    for line in err.splitlines():
        parts = line.split(",")
        if len(parts) > 2 and "raw_syscalls:sys_enter" in parts[2]:
            syscalls = int(parts[0]) if parts[0].isdigit() else None
    for connection in connections:
        connection.close()
    print(json.dumps({"version": args.version, "connections": args.connections, "calls": args.calls,
                      "good": sum(good), "seconds": seconds, "cpu_seconds": cpu, "syscalls": syscalls}))


def callgrind(args):
    measured = report.measure("bare", args.callgrind_dir)
    print(json.dumps({"version": args.version, "callgrind": measured}))


def write_report(args):
    rows = [json.loads(line) for line in open(args.report) if line.strip()]
    ir = {row["version"]: row["callgrind"] for row in rows if "callgrind" in row}
    runs = [row for row in rows if "calls" in row]
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    info = report.machine()
    lines = [
        "# HTTP/1.1 keep-alive against HTTP/2 to a TLS upstream (bench/http-version)",
        "",
        f"{date}, {info.get('cpu_model', '?')} ({info.get('nproc')} cores), kernel {info.get('kernel')}, {info.get('libcurl', '?')}, justgate {info.get('justgate_commit')}.",
        "",
        "justgate bare forwarding `subscribe.sms` to nginx over TLS (h2 and http/1.1 offered, reads the body and answers at once), "
        "one event loop, `upstream.http_version` 1.1 or 2 (over TLS, 2 is what auto does).",
        "",
    ]
    if ir:
        lines += ["Instructions per call under callgrind (one site connection, 300 warm-up + 2,000 counted):", "",
                  "| http_version | Ir per call | mallocs per call |", "|---|---|---|"]
        for version, measured in ir.items():
            lines.append(f"| {version} | {measured['ir_per_request'] / 1000:.1f}k | {measured['mallocs_per_request']:.1f} |")
        lines.append("")
    lines += ["Natively (CPU time and system calls of the justgate process, perf stat), per call; calls/s is what the "
              "Python client managed, not a throughput figure:", "",
              "| http_version | site connections | calls | µs CPU per call | syscalls per call | upstream connections opened | calls/s |",
              "|---|---|---|---|---|---|---|"]
    for run in runs:
        cpu = run["cpu_seconds"] / run["calls"] * 1e6
        syscalls = f"{run['syscalls'] / run['calls']:.1f}" if run["syscalls"] is not None else "?"
        lines.append(f"| {run['version']} | {run['connections']} | {run['calls']:,} | {cpu:.1f} | {syscalls} | "
                     f"{run.get('upstream_connections', '?')} | {run['calls'] / run['seconds']:,.0f} |")
    lines.append("")
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "http-version.md"), "w") as handle:
        handle.write("\n".join(lines))
    with open(os.path.join(args.out_dir, "http-version.json"), "w") as handle:
        json.dump({"date": date, "machine": info, "callgrind": ir, "runs": runs}, handle, indent=2)
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int)
    parser.add_argument("--pid", type=int)
    parser.add_argument("--site-key")
    parser.add_argument("--version")
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--callgrind-dir")
    parser.add_argument("--report")
    parser.add_argument("--out-dir")
    args = parser.parse_args()
    if args.report:
        write_report(args)
    elif args.callgrind_dir:
        callgrind(args)
    else:
        native(args)


if __name__ == "__main__":
    main()
