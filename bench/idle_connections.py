#!/usr/bin/env python3
"""Hold many idle keep-alive connections against an HTTP server and measure what they cost.

A gateway in front of many site backends sees thousands of pooled connections that sit
idle most of the time. This answers two questions about that: how much memory does the
server spend per idle connection, and does serving a request get slower while they are
held? It prints one JSON object on stdout (also when it fails: then with "error").

Steps, all bounded by --timeout:
  1. time --requests sequential requests on one keep-alive connection (baseline);
  2. open --count TCP connections and leave them idle;
  3. send one request on a few of them, to prove the server really serves them;
  4. read the server's RSS (VmRSS summed over --pid and its children);
  5. time --requests sequential requests again on a separate connection;
  6. count how many of the idle connections the server has closed meanwhile.
Latencies include this client's own Python overhead (tens of microseconds), so compare
them between targets and between steps 1 and 5 rather than reading them as absolute.
"""

import argparse
import http.client
import json
import os
import resource
import select
import signal
import socket
import sys
import time

SAMPLE_CONNECTIONS = 5


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True, help="server process whose RSS is measured (with children)")
    parser.add_argument("--count", type=int, default=10000, help="idle connections to hold")
    parser.add_argument("--requests", type=int, default=200, help="sequential requests timed per phase")
    parser.add_argument("--path", default="/")
    parser.add_argument("--header", action="append", default=[], help="'Name: value', repeatable")
    parser.add_argument("--timeout", type=float, default=120, help="seconds before giving up")
    return parser.parse_args()


def raise_fd_limit(needed):
    """Makes room for `needed` sockets, as far as the hard limit (or privileges) allow."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed + 64
    if soft >= wanted:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(hard, wanted)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def process_tree(root):
    """The pid and all its descendants, found through the parent field of /proc/<pid>/stat."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def rss_kib(root):
    total = 0
    for pid in process_tree(root):
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def percentile(sorted_values, fraction):
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, int(round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def timed_requests(args, headers):
    """Sequential requests on one keep-alive connection; latencies in microseconds."""
    connection = http.client.HTTPConnection(args.host, args.port, timeout=5)
    latencies, statuses, reconnects = [], {}, 0
    try:
        for _ in range(args.requests):
            started = time.perf_counter_ns()
            try:
                connection.request("GET", args.path, headers=headers)
                response = connection.getresponse()
                response.read()
            except (http.client.HTTPException, OSError):
                reconnects += 1
                connection.close()
                connection = http.client.HTTPConnection(args.host, args.port, timeout=5)
                statuses["error"] = statuses.get("error", 0) + 1
                continue
            latencies.append((time.perf_counter_ns() - started) / 1000)
            statuses[str(response.status)] = statuses.get(str(response.status), 0) + 1
            if response.will_close:
                reconnects += 1
                connection.close()
                connection = http.client.HTTPConnection(args.host, args.port, timeout=5)
    finally:
        connection.close()
    latencies.sort()
    return {
        "p50_us": percentile(latencies, 0.50),
        "p99_us": percentile(latencies, 0.99),
        "max_us": latencies[-1] if latencies else None,
        "statuses": statuses,
        "reconnects": reconnects,
    }


def open_idle(args):
    sockets, failures = [], 0
    for _ in range(args.count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(5)
        try:
            sock.connect((args.host, args.port))
        except OSError:
            failures += 1
            sock.close()
            continue
        sockets.append(sock)
    return sockets, failures


def request_bytes(args, headers):
    lines = [f"GET {args.path} HTTP/1.1", f"Host: {args.host}:{args.port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def probe_some(sockets, args, headers):
    """Statuses of one request on a few idle connections spread over the whole set."""
    if not sockets:
        return []
    picks = sorted({round(i * (len(sockets) - 1) / max(1, SAMPLE_CONNECTIONS - 1)) for i in range(SAMPLE_CONNECTIONS)})
    statuses = []
    for index in picks:
        sock = sockets[index]
        try:
            sock.sendall(request_bytes(args, headers))
            response = http.client.HTTPResponse(sock, method="GET")
            response.begin()
            response.read()
            statuses.append(response.status)
        except (http.client.HTTPException, OSError) as error:
            statuses.append(f"{type(error).__name__}")
    return statuses


def count_closed(sockets):
    """Idle connections the server has closed: readable with nothing left to read."""
    poller = select.poll()
    by_fd = {}
    for sock in sockets:
        poller.register(sock.fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)
        by_fd[sock.fileno()] = sock
    closed = 0
    for fd, _ in poller.poll(0):
        try:
            if by_fd[fd].recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    return closed


def on_timeout(signum, frame):
    raise TimeoutError("gave up: --timeout reached")


def main():
    args = parse_args()
    headers = dict(h.split(":", 1) for h in args.header)
    headers = {name.strip(): value.strip() for name, value in headers.items()}
    report = {"count_requested": args.count}
    signal.signal(signal.SIGALRM, on_timeout)
    signal.alarm(max(1, int(args.timeout)))
    sockets = []
    try:
        report["fd_limit"] = raise_fd_limit(args.count)
        report["baseline"] = timed_requests(args, headers)
        report["rss_before_kib"] = rss_kib(args.pid)
        started = time.monotonic()
        sockets, report["connect_failures"] = open_idle(args)
        report["opened"] = len(sockets)
        report["open_seconds"] = round(time.monotonic() - started, 2)
        report["sample_statuses"] = probe_some(sockets, args, headers)
        report["rss_held_kib"] = rss_kib(args.pid)
        growth = report["rss_held_kib"] - report["rss_before_kib"]
        report["rss_bytes_per_connection"] = round(growth * 1024 / len(sockets)) if sockets else None
        report["held"] = timed_requests(args, headers)
        report["closed_by_server"] = count_closed(sockets)
    except Exception as error:  # report whatever was measured, then the reason it stopped
        report["error"] = f"{type(error).__name__}: {error}"
    finally:
        signal.alarm(0)
        for sock in sockets:
            sock.close()
    print(json.dumps(report))
    return 1 if "error" in report else 0


if __name__ == "__main__":
    sys.exit(main())
