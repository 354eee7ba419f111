#!/usr/bin/env python3
"""Turns the raw records of bench/run.sh into the table people read.

run.sh appends one JSON line per measured run (runs.jsonl) and one per idle-connection
test (idle.jsonl). This puts them side by side per scenario and connection count,
compares justgate with the better anchor, and writes the same numbers three ways:
a table on stdout, results/latest.json for tools, results/latest.md for the README.
Standard library only, so `make bench` needs nothing beyond python3.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

ANCHORS = ("nginx", "haproxy")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", required=True)
    parser.add_argument("--idle", required=True)
    parser.add_argument("--mallocs", help="JSON: per scenario, justgate's requests and malloc calls")
    parser.add_argument("--keys", help="JSON: requests and RSS before/after of the rate-limit key footprint run")
    parser.add_argument("--audit-cost", help="JSON lines: the audit-cost pass, one per run of justgate or justgate-noaudit")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--duration", required=True)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--connections", required=True)
    parser.add_argument("--wrk-threads", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--idle-connections", type=int, required=True)
    parser.add_argument("--justgate-bin", required=True)
    parser.add_argument("--skip-justgate", default="0")
    return parser.parse_args()


def read_lines(path):
    with open(path) as source:
        return [json.loads(line) for line in source if line.strip()]


def first_output_line(command):
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (done.stdout + done.stderr).strip()
    return text.splitlines()[0] if text else None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def machine():
    return {
        "nproc": int(first_output_line(["nproc"]) or os.cpu_count() or 0),
        "cpu_model": cpu_model(),
        "kernel": platform.release(),
        "loadavg_at_report": os.getloadavg()[0],
    }


def versions(justgate_bin, skip_justgate):
    haproxy = first_output_line(["haproxy", "-v"])
    wrk = first_output_line(["wrk", "-v"])
    found = {
        "nginx": first_output_line(["nginx", "-v"]),
        "haproxy": haproxy.split(" - ")[0] if haproxy else None,  # drop the trailing URL
        "wrk": wrk.split(" Copyright")[0] if wrk else None,
    }
    if not skip_justgate:
        found["justgate"] = justgate_bin
    return found


def summarize(run):
    """One target's numbers for one scenario and connection count."""
    result = run.get("result")
    summary = {
        "peak_rss_kib": run["peak_rss_kib"],
        "cold_start_ms": run["cold_start_ms"],
        "cpu_seconds": run["cpu_seconds"],
        "probe": run.get("probe"),
    }
    if not result:
        summary["error"] = "wrk reported nothing (see the raw output with BENCH_KEEP_TMP=1)"
        return summary
    errors = result["errors"]
    seconds = result["duration_us"] / 1e6
    summary.update({
        "requests": result["requests"],
        "requests_per_sec": round(result["requests"] / seconds, 1) if seconds else 0.0,
        "latency_us": result["latency_us"],
        "non2xx": errors["status"],
        "socket_errors": {name: errors[name] for name in ("connect", "read", "write", "timeout")},
    })
    summary["errors_total"] = summary["non2xx"] + sum(summary["socket_errors"].values())
    # The server's own CPU time per answered request: the cost of proxying, free of how
    # wrk and the upstream share the cores.
    summary["cpu_us_per_request"] = round(float(run["cpu_seconds"]) * 1e6 / result["requests"], 1) if result["requests"] else None
    # Deployment shape only: connections the TLS upstream accepted (each one a TLS handshake) per
    # 1,000 calls it answered during the measured run.
    upstream = run.get("upstream")
    if upstream:
        summary["upstream"] = upstream
        summary["upstream_connections_per_1k"] = (
            round(upstream["connections"] * 1000 / upstream["requests"], 2) if upstream["requests"] else None)
    return summary


# Above this share of failed requests a run measures error handling, not proxying.
MAX_ERROR_SHARE = 0.001


def clean(summary):
    return "requests_per_sec" in summary and summary["errors_total"] <= MAX_ERROR_SHARE * max(1, summary["requests"])


def compare(targets):
    """justgate against the anchor with more req/s, and against the one with the lower p99.
    None when justgate or both anchors failed too many requests for a fair comparison."""
    justgate = targets.get("justgate")
    anchors = {name: targets[name] for name in ANCHORS if clean(targets.get(name, {}))}
    if not justgate or not clean(justgate) or not anchors:
        return None
    fastest = max(anchors, key=lambda name: anchors[name]["requests_per_sec"])
    steadiest = min(anchors, key=lambda name: anchors[name]["latency_us"]["p99"])
    best_rps = anchors[fastest]["requests_per_sec"]
    best_p99 = anchors[steadiest]["latency_us"]["p99"]
    floor = targets.get("curlfloor")
    return {
        "throughput_anchor": fastest,
        "throughput_ratio": round(justgate["requests_per_sec"] / best_rps, 3) if best_rps else None,
        "p99_anchor": steadiest,
        "p99_ratio": round(justgate["latency_us"]["p99"] / best_p99, 3) if best_p99 else None,
        "floor_throughput_ratio": round(floor["requests_per_sec"] / best_rps, 3) if floor and clean(floor) and best_rps else None,
    }


def median_round(summaries):
    """The round with the median throughput (lower middle for an even count), whole,
    so that its latency and memory belong to the same run as its req/s."""
    ranked = sorted(summaries, key=lambda summary: summary.get("requests_per_sec", -1.0))
    chosen = dict(ranked[(len(ranked) - 1) // 2])
    if len(summaries) > 1:
        chosen["rounds_requests_per_sec"] = [summary.get("requests_per_sec") for summary in summaries]
    return chosen


def build_rows(runs):
    rows, rounds = {}, {}
    for run in runs:
        key = (run["scenario"], run["connections"])
        rows.setdefault(key, {"scenario": run["scenario"], "connections": run["connections"], "targets": {}})
        rounds.setdefault(key, {}).setdefault(run["target"], []).append(summarize(run))
    for key, row in rows.items():
        row["targets"] = {target: median_round(summaries) for target, summaries in rounds[key].items()}
        row["justgate_vs_best_anchor"] = compare(row["targets"])
    return list(rows.values())


AUDITED, UNAUDITED = "justgate", "justgate-noaudit"


def paced_run(run):
    """One run of the audit-cost pass: summarize()'s numbers plus the audit writer thread's CPU."""
    summary = summarize(run)
    summary.update({"round": run["round"], "position": run["position"], "writer_found": run["writer_found"],
                    "writer_cpu_seconds": run["writer_cpu_seconds"], "audit_records": run["audit_records"]})
    requests = summary.get("requests")
    summary["writer_cpu_us_per_record"] = (
        round(float(run["writer_cpu_seconds"]) * 1e6 / requests, 2)
        if run["writer_cpu_seconds"] is not None and requests else None)
    return summary


def paced_problem(target, summary):
    """Why a run of the audit-cost pass cannot be compared, or None: only all-2xx runs are timed."""
    probe = summary.get("probe")
    if "error" in summary:
        return summary["error"]
    if not probe or probe["non2xx"] or not 200 <= probe["first_status"] <= 299:
        return f"verification run answered {json.dumps(probe)}"
    if summary["errors_total"]:
        return f"{summary['non2xx']} non-2xx, socket errors {summary['socket_errors']}"
    if target == AUDITED and not summary["writer_found"]:
        return "no jg-audit thread: the audit log was not on (or the binary predates the writer's name)"
    if target == UNAUDITED and summary["writer_found"]:
        return "a jg-audit thread runs although audit.enabled is false"
    if target == AUDITED and (summary["audit_records"] or 0) < summary["requests"]:
        return f"{summary['audit_records']} audit records on disk for {summary['requests']} answered requests"
    return None


def spread(values):
    """Median, min and max, rounded; None for no values."""
    if not values:
        return None
    return {"median": round(statistics.median(values), 2), "min": round(min(values), 2), "max": round(max(values), 2)}


def audit_cost(lines):
    """The audit-cost pass: per variant the median over its clean runs, and per round the paired
    difference justgate minus justgate-noaudit (both runs of the round clean), summarized by median and range.
    Empty when the pass did not run."""
    if not lines:
        return {}
    rounds, problems = {}, []
    for line in lines:
        summary = paced_run(line)
        problem = paced_problem(line["target"], summary)
        if problem:
            summary["problem"] = problem
            problems.append(f"audit cost round {line['round']} {line['target']}: {problem}")
        rounds.setdefault(line["round"], {})[line["target"]] = summary
    variants = {}
    for target in (AUDITED, UNAUDITED):
        clean_runs = [pair[target] for pair in rounds.values() if target in pair and "problem" not in pair[target]]
        def median_of(pick):
            values = [pick(run) for run in clean_runs if pick(run) is not None]
            return round(statistics.median(values), 2) if values else None
        variants[target] = {
            "runs": len(clean_runs),
            "requests_per_sec_median": median_of(lambda run: run["requests_per_sec"]),
            "cpu_us_per_request_median": median_of(lambda run: run["cpu_us_per_request"]),
            "latency_p50_us_median": median_of(lambda run: run["latency_us"]["p50"]),
            "latency_p99_us_median": median_of(lambda run: run["latency_us"]["p99"]),
            "writer_cpu_us_per_record_median": median_of(lambda run: run["writer_cpu_us_per_record"]),
        }
    paired = []
    for number in sorted(rounds):
        pair = rounds[number]
        entry = {"round": number, "first": min(pair, key=lambda target: pair[target]["position"]), "runs": pair}
        audited, unaudited = pair.get(AUDITED), pair.get(UNAUDITED)
        if audited and unaudited and "problem" not in audited and "problem" not in unaudited:
            entry["cpu_us_per_request_diff"] = round(audited["cpu_us_per_request"] - unaudited["cpu_us_per_request"], 2)
            entry["p99_us_diff"] = audited["latency_us"]["p99"] - unaudited["latency_us"]["p99"]
            entry["requests_per_sec_diff"] = round(audited["requests_per_sec"] - unaudited["requests_per_sec"], 1)
        paired.append(entry)
    with_diff = [entry for entry in paired if "cpu_us_per_request_diff" in entry]
    cpu = spread([entry["cpu_us_per_request_diff"] for entry in with_diff])
    p99 = spread([entry["p99_us_diff"] for entry in with_diff])
    # run.sh alternates which variant goes first, and going first has measured higher: the median of each
    # order, and their mean, which no such bias leans on.
    by_order = {}
    for order in (AUDITED, UNAUDITED):
        values = [entry["cpu_us_per_request_diff"] for entry in with_diff if entry["first"] == order]
        by_order[order] = statistics.median(values) if values else None
    orders_mean = (round((by_order[AUDITED] + by_order[UNAUDITED]) / 2, 2)
                   if None not in by_order.values() else None)
    first = lines[0]
    return {
        "scenario": first["scenario"],
        "connections": first["connections"],
        "pace_ms": first["pace_ms"],
        "duration": first["duration"],
        "wrk_threads": first["wrk_threads"],
        "rounds_run": len(rounds),
        "rounds_paired": len(with_diff),
        "variants": variants,
        "cpu_us_per_request_diff_median": cpu and cpu["median"],
        "cpu_us_per_request_diff_min": cpu and cpu["min"],
        "cpu_us_per_request_diff_max": cpu and cpu["max"],
        "p99_us_diff_median": p99 and p99["median"],
        "p99_us_diff_min": p99 and p99["min"],
        "p99_us_diff_max": p99 and p99["max"],
        "cpu_us_per_request_diff_median_audited_first": by_order[AUDITED],
        "cpu_us_per_request_diff_median_unaudited_first": by_order[UNAUDITED],
        "cpu_us_per_request_diff_orders_mean": orders_mean,
        "writer_cpu_us_per_record_median": variants[AUDITED]["writer_cpu_us_per_record_median"],
        "rounds": paired,
        "problems": problems,
    }


def cold_starts(runs):
    by_target = {}
    for run in runs:
        if run["target"] == "upstream-direct":  # nothing is started for it
            continue
        by_target.setdefault(run["target"], []).append(run["cold_start_ms"])
    return {
        target: {"median": statistics.median(values), "min": min(values), "max": max(values), "samples": len(values)}
        for target, values in by_target.items()
    }


def warnings_for(rows, idle):
    found = []
    for row in rows:
        for target, numbers in row["targets"].items():
            where = f"{row['scenario']} c={row['connections']} {target}"
            probe = numbers.get("probe")
            if "error" in numbers:
                found.append(f"{where}: {numbers['error']}")
            elif not probe or probe["non2xx"] or not 200 <= probe["first_status"] <= 299:
                found.append(f"{where}: verification run answered {json.dumps(probe)}")
            elif numbers["errors_total"]:
                found.append(f"{where}: {numbers['non2xx']} non-2xx, socket errors {numbers['socket_errors']}")
    for target, numbers in idle.items():
        if "error" in numbers:
            found.append(f"idle connections {target}: {numbers['error']}")
        answers = numbers.get("sample_statuses", [])
        if any(not isinstance(status, int) or not 200 <= status <= 299 for status in answers):
            found.append(f"idle connections {target}: requests on held connections answered {answers}")
    if any(row["justgate_vs_best_anchor"] is None and "justgate" in row["targets"] for row in rows):
        found.append(f"ratios left out where more than {MAX_ERROR_SHARE:.1%} of a run's requests failed")
    return found


# --- formatting ----------------------------------------------------------------


def ms(microseconds):
    return "-" if microseconds is None else f"{microseconds / 1000:.2f}ms"


def mib(kib):
    return "-" if kib is None else f"{kib / 1024:.1f}MiB"


def ratio(value):
    return "-" if value is None else f"{value:.2f}x"


def table(header, lines):
    """A markdown table, padded so that it also reads well in a terminal."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines)]
    def render(cells):
        return "| " + " | ".join(str(cell).ljust(width) for cell, width in zip(cells, widths)) + " |"
    separator = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([render(header), separator] + [render(line) for line in lines])


def results_table(rows, targets):
    header = ["scenario", "conns"]
    for target in targets:
        header += [f"{target} req/s", f"{target} p50", f"{target} p99", f"{target} RSS", f"{target} CPU/req", f"{target} err"]
    with_justgate = "justgate" in targets
    if with_justgate:
        header += ["jg req/s vs best", "jg p99 vs best"]
    with_floor = "curlfloor" in targets
    if with_floor:
        header += ["floor req/s vs best"]
    lines = []
    for row in rows:
        line = [row["scenario"], row["connections"]]
        for target in targets:
            numbers = row["targets"].get(target, {})
            latency = numbers.get("latency_us", {})
            rps = numbers.get("requests_per_sec")
            line += [
                "-" if rps is None else f"{rps:,.0f}",
                ms(latency.get("p50")),
                ms(latency.get("p99")),
                mib(numbers.get("peak_rss_kib")),
                "-" if numbers.get("cpu_us_per_request") is None else f"{numbers['cpu_us_per_request']:.1f}us",
                numbers.get("errors_total", "-"),
            ]
        if with_justgate:
            versus = row["justgate_vs_best_anchor"] or {}
            line += [
                f"{ratio(versus.get('throughput_ratio'))} ({versus.get('throughput_anchor', '-')})",
                f"{ratio(versus.get('p99_ratio'))} ({versus.get('p99_anchor', '-')})",
            ]
        if with_floor:
            line.append(ratio((row["justgate_vs_best_anchor"] or {}).get("floor_throughput_ratio")))
        lines.append(line)
    return table(header, lines)


def is_tls(row):
    return row["scenario"].startswith("tls/")


def tls_table(rows):
    """The deployment shape: TLS upstream with a fixed delay; per target also the upstream
    connections (TLS handshakes) opened per 1,000 calls."""
    targets = [t for t in ("upstream-direct", "nginx", "haproxy", "justgate") if any(t in row["targets"] for row in rows)]
    header = ["scenario", "conns"]
    for target in targets:
        header += [f"{target} req/s", f"{target} p99", f"{target} CPU/req", f"{target} err", f"{target} up-conns/1k"]
    header += ["jg req/s vs best", "jg p99 vs best"]
    lines = []
    for row in rows:
        line = [row["scenario"], row["connections"]]
        for target in targets:
            numbers = row["targets"].get(target, {})
            rps = numbers.get("requests_per_sec")
            per_1k = numbers.get("upstream_connections_per_1k")
            line += [
                "-" if rps is None else f"{rps:,.0f}",
                ms(numbers.get("latency_us", {}).get("p99")),
                "-" if numbers.get("cpu_us_per_request") is None else f"{numbers['cpu_us_per_request']:.1f}us",
                numbers.get("errors_total", "-"),
                "-" if per_1k is None else f"{per_1k:.2f}",
            ]
        versus = row["justgate_vs_best_anchor"] or {}
        line += [
            f"{ratio(versus.get('throughput_ratio'))} ({versus.get('throughput_anchor', '-')})",
            f"{ratio(versus.get('p99_ratio'))} ({versus.get('p99_anchor', '-')})",
        ]
        lines.append(line)
    return table(header, lines)


def stage_costs_table(rows):
    """What justgate's optional stages cost: CPU per request of justgate (everything on) over
    justgate-bare, and the Redis-backed limiter's CPU per request and p99 beside the memory one."""
    lines = []
    for row in rows:
        full, bare, redis = (row["targets"].get(name, {}) for name in ("justgate", "justgate-bare", "justgate-redis"))
        if not full:
            continue
        cost = None
        if full.get("cpu_us_per_request") is not None and bare.get("cpu_us_per_request") is not None:
            cost = full["cpu_us_per_request"] - bare["cpu_us_per_request"]
        lines.append([
            row["scenario"], row["connections"],
            "-" if bare.get("cpu_us_per_request") is None else f"{bare['cpu_us_per_request']:.1f}us",
            f"{full['cpu_us_per_request']:.1f}us" if full.get("cpu_us_per_request") is not None else "-",
            "-" if cost is None else f"{cost:+.1f}us",
            "-" if redis.get("cpu_us_per_request") is None else f"{redis['cpu_us_per_request']:.1f}us",
            ms(full.get("latency_us", {}).get("p99")),
            ms(redis.get("latency_us", {}).get("p99")),
            redis.get("errors_total", "-"),
        ])
    if not lines:
        return None
    header = ["scenario", "conns", "bare CPU/req", "justgate CPU/req", "stages cost", "redis CPU/req",
              "justgate p99", "redis p99", "redis err"]
    return table(header, lines)


def us(value, signed=False, digits=1):
    return "-" if value is None else (f"{value:+.{digits}f}us" if signed else f"{value:.{digits}f}us")


def audit_cost_text(cost):
    """The audit-cost section: one sentence of method, then per variant the medians and the paired differences."""
    if not cost:
        return None
    audited, unaudited = cost["variants"][AUDITED], cost["variants"][UNAUDITED]
    def row(name, numbers):
        rps = numbers["requests_per_sec_median"]
        return [name, numbers["runs"], "-" if rps is None else f"{rps:,.0f}", us(numbers["cpu_us_per_request_median"]),
                ms(numbers["latency_p50_us_median"]), ms(numbers["latency_p99_us_median"]),
                us(numbers["writer_cpu_us_per_record_median"], digits=2) if numbers is audited else "-"]
    def signed_us(value):  # p99 differences are tens of microseconds: ms with two decimals would hide them
        return "-" if value is None else f"{value:+.0f}us"
    difference = [
        "audit - noaudit, median of per-round differences (min..max)", cost["rounds_paired"], "",
        "-" if cost["cpu_us_per_request_diff_median"] is None else
        f"{us(cost['cpu_us_per_request_diff_median'], True, 2)} ({us(cost['cpu_us_per_request_diff_min'], True, 2)}.."
        f"{us(cost['cpu_us_per_request_diff_max'], True, 2)})",
        "",
        "-" if cost["p99_us_diff_median"] is None else
        f"{signed_us(cost['p99_us_diff_median'])} ({signed_us(cost['p99_us_diff_min'])}..{signed_us(cost['p99_us_diff_max'])})",
        "",
    ]
    lines = [row(f"{AUDITED} (audit log on)", audited), row(UNAUDITED, unaudited), difference]
    header = ["variant", "runs", "req/s", "CPU/req", "p50", "p99", "audit writer CPU/record"]
    per_round = ", ".join(
        f"{entry['round']} "
        + (f"{us(entry['cpu_us_per_request_diff'], True, 2)}" if "cpu_us_per_request_diff" in entry else "not paired")
        + (" (noaudit first)" if entry["first"] == UNAUDITED else "")
        for entry in cost["rounds"])
    by_order = ""
    if cost.get("cpu_us_per_request_diff_orders_mean") is not None:
        by_order = (f" Median with {AUDITED} first {us(cost['cpu_us_per_request_diff_median_audited_first'], True, 2)}, "
                    f"with {UNAUDITED} first {us(cost['cpu_us_per_request_diff_median_unaudited_first'], True, 2)}, "
                    f"their mean {us(cost['cpu_us_per_request_diff_orders_mean'], True, 2)}.")
    return "\n".join([
        f"What the audit log costs (fixed offered rate: {cost['scenario']}, one wrk -t{cost['wrk_threads']} "
        f"-c{cost['connections']} per variant, each connection pausing {cost['pace_ms']} ms after every answer; "
        f"{cost['rounds_run']} round{'' if cost['rounds_run'] == 1 else 's'} of {cost['duration']}). justgate and justgate-noaudit differ only in "
        "audit.enabled (both count the bench-site policy in memory); each round starts both afresh and loads them "
        "side by side, so both see the same seconds of the machine, in an order that alternates by round; medians "
        "are over rounds, the difference is taken within each round. CPU/req: the whole "
        "process's CPU per answered request; audit writer CPU/record: the jg-audit thread's alone (it writes each "
        "record's JSON, seals, writes and syncs; the event loops' packing of the values is in CPU/req). Issue 10's budget: at most +2 us per request, p99 "
        "unchanged beyond noise.",
        "",
        table(header, lines),
        "",
        f"CPU/req difference per round: {per_round}.{by_order}",
    ])


def cold_start_table(starts):
    lines = [[t, f"{s['median']}ms", f"{s['min']}ms", f"{s['max']}ms", s["samples"]] for t, s in starts.items()]
    return table(["target", "cold start median", "min", "max", "starts"], lines)


def idle_table(idle):
    lines = []
    for target, numbers in idle.items():
        baseline, held = numbers.get("baseline", {}), numbers.get("held", {})
        per_connection = numbers.get("rss_bytes_per_connection")
        lines.append([
            target,
            f"{numbers.get('opened', '-')}/{numbers.get('count_requested', '-')}",
            mib(numbers.get("rss_before_kib")),
            mib(numbers.get("rss_held_kib")),
            "-" if per_connection is None else f"{per_connection:,}B",
            f"{ms(baseline.get('p50_us'))} / {ms(baseline.get('p99_us'))}",
            f"{ms(held.get('p50_us'))} / {ms(held.get('p99_us'))}",
            numbers.get("closed_by_server", "-"),
            " ".join(str(status) for status in numbers.get("sample_statuses", [])) or "-",
        ])
    header = ["target", "idle held", "RSS before", "RSS held", "RSS/conn",
              "p50/p99 before", "p50/p99 held", "closed by server", "sample answers"]
    return table(header, lines)


def mallocs_text(mallocs):
    if not mallocs:
        return None
    if "skipped" in mallocs:
        return f"justgate malloc calls per request: not counted ({mallocs['skipped']})."
    parts = []
    for scenario, numbers in mallocs.items():
        requests, calls = numbers.get("requests", 0), numbers.get("malloc_calls", 0)
        if requests:
            parts.append(f"{scenario} {calls / requests:.1f}")
    return ("justgate malloc calls per request (libc malloc, perf uprobe, wrk -c10, includes libcurl's): "
            + ", ".join(parts) + ".") if parts else None


def markdown(report, targets):
    meta = report["machine"]
    params = report["params"]
    parts = [
        f"Benchmark of {report['date']} on {meta['nproc']} cores ({meta['cpu_model']}), kernel {meta['kernel']}; "
        f"wrk -t{params['wrk_threads']} -d{params['duration']}, "
        f"{'1 round' if params['repeat'] == 1 else str(params['repeat']) + ' rounds (median shown)'}, "
        f"{params['workers']} workers per server; "
        f"{', '.join(v for v in report['versions'].values() if v)}.",
        "",
        results_table([row for row in report["rows"] if not is_tls(row)], targets)
        if any(not is_tls(row) for row in report["rows"]) else "(loopback pass not run)",
        "",
        "req/s: completed requests per second. p50/p99: wrk latency percentiles. RSS: peak resident memory of the "
        "server's processes during that run (VmHWM, summed). CPU/req: the server's own CPU time (user + system) "
        "per completed request. err: non-2xx answers plus socket errors."
        + (" curlfloor: bench/curl-floor, the cheapest proxy whose upstream calls go through libcurl (no "
           "authentication, validation or logging): the ceiling libcurl leaves justgate on this machine."
           if "curlfloor" in targets else "")
        + (" jg ... vs best: justgate divided by the anchor with the higher req/s (throughput; above 1 is better) "
           "and by the anchor with the lower p99 (latency; below 1 is better)." if "justgate" in targets else ""),
    ]
    if report["cold_start_ms"]:
        parts += ["", cold_start_table(report["cold_start_ms"])]
    tls_rows = [row for row in report["rows"] if is_tls(row)]
    if tls_rows:
        parts += ["", "Deployment shape (BENCH_TLS=1): the upstream over TLS with a CA the bench made, offering h2 and "
                  "http/1.1, answering each call after a fixed delay; every proxy verifies its certificate. "
                  "upstream-direct: wrk straight to that upstream (no proxy), to show it is not the limit. "
                  "up-conns/1k: connections the upstream accepted during the run (nginx stub_status; each is one "
                  "TLS handshake) per 1,000 calls it answered.", "", tls_table(tls_rows)]
    costs = stage_costs_table([row for row in report["rows"] if not is_tls(row)])
    if costs:
        parts += ["", "What the optional stages cost (justgate-bare: no rate-limit policy and no audit log; justgate: a site "
                  "policy counted in memory and the audit log on; justgate-redis: the same with the policy counted in a "
                  "local redis-server):", "", costs]
    if report["idle_connections"]:
        parts += ["", idle_table(report["idle_connections"])]
    keys = report.get("limiter_keys") or {}
    if keys.get("requests"):
        grown = (keys["rss_after_kib"] - keys["rss_before_kib"]) * 1024
        parts += ["", f"Memory rate limiter: {keys['requests']:,} distinct per-IP keys grew RSS by {grown / 1048576:.1f} MiB, "
                  f"{grown / keys['requests']:.0f} bytes per key (instant, hash and table overhead)."]
    audit = audit_cost_text(report.get("audit_cost"))
    if audit:
        parts += ["", audit]
    allocations = mallocs_text(report.get("justgate_mallocs"))
    if allocations:
        parts += ["", allocations]
    if report["warnings"]:
        parts += ["", "Warnings:", ""] + [f"- {warning}" for warning in report["warnings"]]
    return "\n".join(parts) + "\n"


def mallocs_per_request(path):
    """The count_mallocs numbers with the per-request ratio added; {} when not measured."""
    if not path or not os.path.exists(path):
        return {}
    with open(path) as source:
        counted = json.load(source)
    for numbers in counted.values():
        if isinstance(numbers, dict) and numbers.get("requests"):
            numbers["per_request"] = round(numbers["malloc_calls"] / numbers["requests"], 1)
    return counted


def main():
    args = parse_args()
    skip_justgate = args.skip_justgate == "1"
    runs = read_lines(args.runs)
    idle = {entry["target"]: entry["idle"] for entry in read_lines(args.idle)}
    rows = build_rows(runs)
    targets = [t for t in ("nginx", "haproxy", "curlfloor", "justgate", "justgate-bare", "justgate-redis")
               if any(t in row["targets"] for row in rows)]
    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "versions": versions(args.justgate_bin, skip_justgate),
        "params": {
            "duration": args.duration,
            "repeat": args.repeat,
            "connections": [int(c) for c in args.connections.split()],
            "wrk_threads": args.wrk_threads,
            "workers": args.workers,
            "idle_connections": args.idle_connections,
            "justgate_skipped": skip_justgate,
        },
        "rows": rows,
        "cold_start_ms": cold_starts(runs),
        "idle_connections": idle,
        "justgate_mallocs": mallocs_per_request(args.mallocs),
        "limiter_keys": json.load(open(args.keys)) if args.keys and os.path.exists(args.keys) else {},
        "audit_cost": audit_cost(read_lines(args.audit_cost)) if args.audit_cost and os.path.exists(args.audit_cost) else {},
    }
    report["warnings"] = warnings_for(rows, idle) + report["audit_cost"].get("problems", [])
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "latest.json"), "w") as out:
        json.dump(report, out, indent=2)
        out.write("\n")
    text = markdown(report, targets)
    with open(os.path.join(args.out_dir, "latest.md"), "w") as out:
        out.write(text)
    sys.stdout.write(text)
    sys.stdout.write(f"\nwritten: {args.out_dir}/latest.json, {args.out_dir}/latest.md\n")


if __name__ == "__main__":
    main()
