"""wrk, the C load generator, run for a number of seconds: p50/p99 latency and req/s.
Shared by bench.pages and bench.tenants (which otherwise do not import each other)."""

from __future__ import annotations

import os
import re
import subprocess
import sys


def _parse_wrk_time(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip()).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, clients: int, duration: float, headers: dict, script: str | None = None) -> dict:
    # --timeout: wrk's default (2 s) would drop slow answers from the latencies, as errors.
    args = ["wrk", "-t2", f"-c{clients}", f"-d{max(1, round(duration))}s", "--latency", "--timeout", "30s"]
    if script:
        args += ["-s", script]
    for key, value in headers.items():
        args += ["-H", f"{key}: {value}"]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    if os.environ.get("BENCH_DEBUG"):
        print(out, file=sys.stderr)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    # Socket errors (connect, read, write, timeout) count as errors too.
    failed = sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1))) if socket_errors else 0
    return {
        "p50": _parse_wrk_time(p50.group(1)), "p99": _parse_wrk_time(p99.group(1)),
        "rps": float(rps.group(1)),
        "errors": (int(errors.group(1)) if errors else 0) + failed,
        "note": socket_errors.group(1) if socket_errors else "",
    }
