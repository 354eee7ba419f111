#!/usr/bin/env python3
"""Drives one target under callgrind for `make bench-ir`: one keep-alive connection, the same
subscribe.sms request every time, warm-up, zero the counters, measure, dump the counters.

Why a client of its own rather than wrk: the count must be of the same requests every run. wrk keeps
sending until its clock runs out, so how many requests land between `callgrind_control --zero` and
`--dump` would depend on timing. This client sends exactly --warmup requests, waits until the target
is idle (its audit log, when it has one, has stopped growing), zeroes, sends exactly --requests more,
waits again, dumps; the client itself is not under valgrind, so its own cost never counts.

Prints one JSON object: the numbers of requests sent and answered 2xx, the seconds the measured part
took, and the audit records written between the zero and the dump (null without --audit-dir).
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time

PATH = "/api/user/v1/subscription/subscribe/sms"
CONTENT_TYPE = "application/x-www-form-urlencoded"
# The body of bench/wrk/subscribe.sms.lua: a phone number in the human form sites submit.
BODY = b"juid=de6f0132ea9e412599ae31262c45633b&number=8+(912)+345-67-89"


def request_bytes(port: int, site_key: str) -> bytes:
    """The request wrk sends for subscribe.sms (wrk adds Host and Content-Length)."""
    head = (
        f"POST {PATH} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"X-AUTH-TOKEN: {site_key}\r\n"
        f"Content-Type: {CONTENT_TYPE}\r\n"
        f"Content-Length: {len(BODY)}\r\n\r\n"
    )
    return head.encode("ascii") + BODY


class Connection:
    """One keep-alive connection that sends a request and reads its whole answer (Content-Length framed)."""

    def __init__(self, port: int, timeout: float):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def exchange(self, request: bytes) -> int:
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._read()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
            elif name.strip().lower() == b"transfer-encoding":
                raise SystemExit(f"the target answered with Transfer-Encoding ({value.strip()!r}); this client reads Content-Length only")
        if length is None:
            raise SystemExit(f"answer without Content-Length (status {status}); this client reads Content-Length only")
        while len(self.buffer) < length:
            self._read()
        self.buffer = self.buffer[length:]
        return status

    def _read(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise SystemExit("the target closed the keep-alive connection")
        self.buffer += chunk

    def close(self):
        self.sock.close()


def audit_lines(directory):
    """Records in the audit folder (live and rotated files), or None without one."""
    if directory is None:
        return None
    total = 0
    for name in os.listdir(directory):
        if name.startswith("audit.jsonl"):
            with open(os.path.join(directory, name), "rb") as handle:
                total += handle.read().count(b"\n")
    return total


def wait_idle(directory, quiet_seconds: float, limit_seconds: float):
    """Sleeps quiet_seconds, and with an audit folder until its record count stops growing for that long.

    The audit writer seals records in batches (every 100 ms, slower under valgrind): records of the requests
    before the zero must be written before it, and those of the measured requests before the dump.
    """
    deadline = time.monotonic() + limit_seconds
    last = audit_lines(directory)
    while True:
        time.sleep(quiet_seconds)
        now = audit_lines(directory)
        if now == last:
            return now
        if time.monotonic() > deadline:
            raise SystemExit(f"the audit log kept growing for {limit_seconds:.0f} s after the requests stopped")
        last = now


def callgrind_control(option: str, pid: int):
    result = subprocess.run(["callgrind_control", option, str(pid)], capture_output=True, text=True, timeout=120)
    if result.returncode != 0 or "OK" not in result.stdout:
        raise SystemExit(f"callgrind_control {option} {pid} failed: {result.stdout.strip()} {result.stderr.strip()}")


def send(connection: Connection, request: bytes, count: int) -> int:
    """Sends the request count times; returns how many answers were 2xx."""
    good = 0
    for _ in range(count):
        if 200 <= connection.exchange(request) < 300:
            good += 1
    return good


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True, help="the process running under callgrind")
    parser.add_argument("--site-key", required=True)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--audit-dir", default=None)
    parser.add_argument("--quiet-seconds", type=float, default=0.5)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for any one answer")
    args = parser.parse_args()

    request = request_bytes(args.port, args.site_key)
    connection = Connection(args.port, args.timeout)
    warm_good = send(connection, request, args.warmup)
    before = wait_idle(args.audit_dir, args.quiet_seconds, 60)
    callgrind_control("--zero", args.pid)
    started = time.monotonic()
    good = send(connection, request, args.requests)
    seconds = time.monotonic() - started
    after = wait_idle(args.audit_dir, args.quiet_seconds, 60)
    callgrind_control("--dump", args.pid)
    connection.close()
    json.dump({
        "warmup": args.warmup, "warmup_2xx": warm_good, "requests": args.requests, "requests_2xx": good,
        "seconds": round(seconds, 3),
        "audit_records": None if before is None else after - before,
    }, sys.stdout)
    print()


if __name__ == "__main__":
    main()
