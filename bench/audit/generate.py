#!/usr/bin/env python3
"""Writes an audit log of N request records in justgate's exact line format, chained and signed like the
gateway does it, for `make bench-audit` and the CLI tests: python3 generate.py OUT N [KEY] [--old-format]

--old-format writes lines without `key` and `reason`, as justgate did before it recorded them (to check that
such logs still verify and query)."""
import hashlib
import hmac
import random
import sys

old_format = "--old-format" in sys.argv
args = [a for a in sys.argv[1:] if a != "--old-format"]
out, count = args[0], int(args[1])
key = args[2].encode() if len(args) > 2 else None
rng = random.Random(42)
sites = ["horoscope-daily", "news-portal", "weather-now", "recipes-club"]
operations = [("profile.create", "POST", "/api/user/v1/subscription/create/profile"),
              ("subscribe.email", "POST", "/api/user/v1/subscription/subscribe/email"),
              ("subscribe.sms", "POST", "/api/user/v1/subscription/subscribe/sms"),
              ("segments.get", "GET", "/api/user/v1/info/segment/"),
              ("action.save", "POST", "/api/user/v1/action/")]
outcomes = [("forwarded", 200, 200)] * 16 + [("rejected_invalid", 422, None), ("rejected_auth", 401, None),
            ("rate_limited", 429, None), ("upstream_error", 502, None), ("upstream_timeout", 504, None)]
# The `reason` each failing outcome gets (`UpstreamFailureReason`), and each site's key fingerprint.
reasons = {"upstream_error": "connect_refused", "upstream_timeout": "timeout_after_sending"}
fingerprints = {site: hashlib.sha256(site.encode()).hexdigest()[:12] for site in sites}


def q(value):
    return "null" if value is None else '"' + value + '"'


def n(value):
    return "null" if value is None else str(value)


def ms(micros):
    return "null" if micros is None else "%d.%03d" % (micros // 1000, micros % 1000)


prev = "0" * 64
start = 1_796_000_000_000
with open(out, "w") as f:
    for seq in range(1, count + 1):
        millis = start + seq * 10
        seconds, milli = divmod(millis, 1000)
        import time
        t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".%03dZ" % milli
        site = rng.choice(sites)
        operation, method, path = rng.choice(operations)
        outcome, status, upstream = rng.choice(outcomes)
        duration = rng.randint(300, 40_000)
        upstream_ms = duration - 200 if upstream else None
        errors = '[{"field":"email","code":"invalid_email"}]' if outcome == "rejected_invalid" else "[]"
        policy = '"per-site"' if outcome == "rate_limited" else "null"
        key_member = "" if old_format else ',"key":%s' % q(None if outcome == "rejected_auth" else fingerprints[site])
        reason_member = "" if old_format else ',"reason":%s' % q(reasons.get(outcome))
        line = ('{"time":%s,"seq":%d,"event":"request","request_id":%s,"site":%s%s,"operation":%s,"method":%s,'
                '"path":%s,"client":"203.0.113.9","outcome":%s%s,"status":%d,"upstream_status":%s,"duration_ms":%s,'
                '"upstream_ms":%s,"attempts":%s,"errors":%s,"policy":%s,"trace_id":%s,"juid":"de6f0132ea9e412599ae31262c45633b",'
                '"email":"e***@example.com","phone":null,"ip":null,"note":null,"prev":"%s"}') % (
            q(t), seq, q("%032x" % seq), q(site), key_member, q(operation), q(method), q(path), q(outcome), reason_member,
            status, n(upstream), ms(duration), ms(upstream_ms), "1" if upstream else "null", errors, policy,
            q("%032x" % (seq * 7919)), prev)
        data = line.encode()
        digest = hmac.new(key, data, hashlib.sha256).hexdigest() if key else hashlib.sha256(data).hexdigest()
        f.write(line[:-1] + ',"hash":"' + digest + '"}\n')
        prev = digest
