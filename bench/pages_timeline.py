"""The timeline rows of bench.pages (issue 17, item 15: fast on 100,000 items, p99 < 60 ms a page).

Cached rows ask for one URL again and again: after the first request each is answered from
the page cache, as for a visitor who comes back to a page nobody has written to since. A
visitor scrolling the timeline mostly meets pages nobody asked for yet (each scroll position
is its own cursor), so the uncached rows ask for distinct pages: jumps to months taken from
the scrubber's list (`/api/v1/timeline/months`) and the next cursors followed from there,
gathered before the row; each connection walks that list, one URL after another, never
one another connection asked for. Should a row outrun its list, the next round adds `&r=N`
to every URL (a new cache key: the same reads again, still none answered from the cache).

With `--connections 20,1` every row is measured again at one connection (run_one_connection):
one visitor scrolling, each page asked for once the last has come, the latency a person
meets for a page nobody asked for before, without 19 others' requests queued in front of
it. The summary prints both side by side, each p99 against the target.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import tempfile
import time
from urllib.parse import urlsplit

TARGET_MS = 60

# A wrk script asking for each URL of the list once a round: thread t of T takes the URLs
# t, t + T, t + 2T, ... (its connections share the thread's counter).
SEQUENTIAL_SCRIPT = """
local paths = {%s}
local n = #paths
local threads = 0
setup = function(thread)
  thread:set("tid", threads)
  threads = threads + 1
  thread:set("nthreads", 2)
end
local counter = 0
request = function()
  local i = tid + nthreads * counter
  counter = counter + 1
  local round = math.floor(i / n)
  local path = paths[(i %% n) + 1]
  if round > 0 then path = path .. "&r=" .. round end
  return wrk.format("GET", path)
end
"""


def cached_rows(base: str, data: dict, fetch) -> list[tuple[str, str, dict]]:
    """(name, url, headers) of the rows that ask for one URL, answered from the page cache."""
    member = {"Cookie": data["member_cookie"]}
    _, body = fetch(f"{base}/api/v1/timeline?month=2021-03&limit=60")
    cursor = json.loads(body or b"{}").get("next_cursor") or ""
    _, body = fetch(f"{base}/api/v1/timeline?month=2019-03&limit=60", member)
    member_cursor = json.loads(body or b"{}").get("next_cursor") or ""
    return [
        (f"timeline page 1, {data['timeline_items']} items (cached)", f"{base}/timeline", {}),
        ("timeline page, jump to a month (cached)", f"{base}/timeline?month=2021-06", {}),
        ("timeline API, middle cursor (cached)", f"{base}/api/v1/timeline?cursor={cursor}&limit=60", {}),
        ("timeline page 1, member of 2 albums (cached)", f"{base}/timeline", member),
        ("timeline API, member cursor (cached)",
         f"{base}/api/v1/timeline?cursor={member_cursor}&limit=60", member),
    ]


def scroll_urls(base: str, fetch, headers: dict, *, page: bool, count: int, follow: int = 6,
                seed: int = 17) -> list[str]:
    """`count` distinct URLs a scrolling visitor asks for: random months of the scrubber and
    up to `follow` next cursors after each. `page`: the HTML page (`/timeline?month=`,
    `?cursor=`: the scrubber's links and the pager's "Older" link) rather than the API."""
    _, body = fetch(f"{base}/api/v1/timeline/months", headers)
    months = [m["month"] for m in json.loads(body or b"{}").get("months", []) if m["month"]]
    rng = random.Random(seed)
    rng.shuffle(months)
    urls: list[str] = []
    seen: set[str] = set()

    def add(url: str) -> None:
        if url not in seen and len(urls) < count:
            seen.add(url)
            urls.append(url)

    for month in months:
        if len(urls) >= count:
            break
        add(f"{base}/timeline?month={month}" if page else f"{base}/api/v1/timeline?month={month}&limit=60")
        # Followed at limit 59: the row's own URLs (limit 60, or the page) stay unasked.
        _, body = fetch(f"{base}/api/v1/timeline?month={month}&limit=59", headers)
        cursor = json.loads(body or b"{}").get("next_cursor")
        for _ in range(follow):
            if not cursor or len(urls) >= count:
                break
            add(f"{base}/timeline?cursor={cursor}" if page else f"{base}/api/v1/timeline?cursor={cursor}&limit=60")
            _, body = fetch(f"{base}/api/v1/timeline?cursor={cursor}&limit=59", headers)
            cursor = json.loads(body or b"{}").get("next_cursor")
    rng.shuffle(urls)
    return urls


def uncached_rows(base: str, data: dict, fetch, count: int, only: str = "") -> list[tuple[str, list[str], dict]]:
    """(name, distinct urls, headers) of the first-visit rows (those named `only…`)."""
    member = {"Cookie": data["member_cookie"]}
    rows = []
    for name, headers, page in (
        ("timeline API, scrolling (uncached)", {}, False),
        ("timeline page, months and cursors (uncached)", {}, True),
        ("timeline API, member scrolling (uncached)", member, False),
        ("timeline page, member (uncached)", member, True),
    ):
        if not name.startswith(only):
            continue
        t0 = time.perf_counter()
        urls = scroll_urls(base, fetch, headers, page=page, count=count)
        print(f"{name}: {len(urls)} distinct URLs gathered in {time.perf_counter() - t0:.1f}s",
              file=sys.stderr, flush=True)
        rows.append((name, urls, headers))
    return rows


def run_sequential(use_wrk: bool, urls: list[str], clients: int, duration: float, headers: dict,
                   run_wrk, run_python) -> dict:
    """Load over `urls`, each asked for once a round (see SEQUENTIAL_SCRIPT)."""
    if not use_wrk:
        # The Python client picks at random; a unique `r` keeps every request off the cache.
        rounds = [f"{u}&r=p{i}" for i, u in enumerate(urls * 20)]
        return run_python(rounds, clients, duration, headers)
    parts = [urlsplit(u) for u in urls]
    paths = ", ".join(json.dumps(p.path + (f"?{p.query}" if p.query else "")) for p in parts)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(SEQUENTIAL_SCRIPT % paths)
    try:
        return run_wrk(f"{parts[0].scheme}://{parts[0].netloc}/", clients, duration, headers,
                       script=script.name)
    finally:
        os.unlink(script.name)


def at_connections(name: str, connections: int, default: int) -> str:
    """A row's name at `connections` ("…, 1 connection (uncached)"); at the run's --clients
    the name stays as it was (comparable with earlier tables)."""
    if connections == default:
        return name
    head, kind = name.rsplit(" (", 1)
    return f"{head}, {connections} connection{'s' if connections != 1 else ''} ({kind}"


def run_one_connection(urls: list[str], duration: float, headers: dict, *, fresh: bool) -> dict:
    """One visitor scrolling: one keep-alive connection asking for `urls` one after
    another, each answer read before the next request, for `duration` seconds. `fresh`:
    each URL gets an `r` of its own (`&r=c1-N`: a new cache key, the same reads), so none
    is answered from the page cache, even those an earlier row asked for."""
    import http.client

    parts = urlsplit(urls[0])
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + duration
    i = 0
    try:
        while time.monotonic() < deadline:
            url = urlsplit(urls[i % len(urls)])
            path = url.path + (f"?{url.query}" if url.query else "")
            if fresh:
                path += f"{'&' if url.query else '?'}r=c1-{i}"
            i += 1
            start = time.perf_counter()
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            latencies.append((time.perf_counter() - start) * 1000)
            errors += resp.status >= 400
    finally:
        conn.close()
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, max(0, math.ceil(q * len(latencies)) - 1))]
    return {"p50": pick(0.50), "p99": pick(0.99), "rps": len(latencies) / duration,
            "errors": errors, "note": ""}


def print_summary(results: list[dict]) -> None:
    """Every timeline row at each number of connections side by side (p50 / p99 ms) with
    whether its p99 meets the target, then the worst row of each kind."""
    rows = [r for r in results if r["name"].startswith("timeline") and "p99" in r]
    if not rows:
        return
    counts = sorted({r.get("connections", 0) for r in rows}, reverse=True)
    table: dict[str, dict[int, dict]] = {}
    for r in rows:
        table.setdefault(r.get("row", r["name"]), {})[r.get("connections", 0)] = r
    print(f"timeline rows against the target (p99 < {TARGET_MS} ms per page), p50 / p99 ms, "
          f"load average {os.getloadavg()[0]:.2f}:")
    print(f"  {'':50}" + "".join(f"{f'{n} connection' + ('s' if n != 1 else ''):>25}" for n in counts))
    for name, found in table.items():
        cells = []
        for n in counts:
            r = found.get(n)
            if r is None:
                cells.append(f"{'-':>25}")
            else:
                verdict = "met" if r["p99"] < TARGET_MS else "NOT met"
                cells.append(f"{r['p50']:>8.1f} /{r['p99']:>6.1f} {verdict:>8}")
        print(f"  {name:50}" + "".join(cells))
    for kind in ("cached", "uncached"):
        picked = [r for r in rows if r["name"].endswith(f"({kind})")]
        if picked:
            worst = max(picked, key=lambda r: r["p99"])
            verdict = "met" if worst["p99"] < TARGET_MS else "NOT met"
            print(f"  {kind:9} worst p99 {worst['p99']:7.1f} ms ({worst['name']}): {verdict}")
