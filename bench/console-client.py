#!/usr/bin/env python3
"""Times the console's API for bench/console.sh: one keep-alive HTTP
connection (as the page's), REQUESTS requests of each kind after 3 warm-up
ones, wall time from request sent to body read; then the page weight.
Usage: bench/console-client.py URL-WITH-TOKEN N  (N: entries loaded, for the labels)"""

import gzip
import http.client
import json
import os
import statistics
import sys
import time
import urllib.parse

url = urllib.parse.urlsplit(sys.argv[1])
loaded = int(sys.argv[2])
token = urllib.parse.parse_qs(url.fragment)["token"][0]
REQUESTS = int(os.environ.get("BENCH_CONSOLE_REQUESTS", "50"))
DEPTH = int(os.environ.get("BENCH_CONSOLE_DEPTH", "40"))
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)


def get(path, auth=True):
    headers = {"Authorization": "Bearer " + token} if auth else {}
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        sys.exit("%s: %d %s" % (path, response.status, body[:300]))
    return body


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def timed(name, key, path):
    for _ in range(3):
        get(path)
    times, sizes = [], []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        body = get(path)
        times.append((time.perf_counter() - start) * 1000)
        sizes.append(len(body))
    data = json.loads(body)
    extra = ""
    if "entries" in data and isinstance(data["entries"], list):
        extra = ", %d entries, %d items read, next %s%s" % (
            len(data["entries"]), data.get("read", 0), "yes" if data.get("next") else "none",
            ", moreMayMatch" if data.get("moreMayMatch") else "")
    print("  %-44s p50 %8.2f ms, p95 %8.2f ms, max %8.2f ms (n=%d; %d bytes%s)" % (
        name, pct(times, 50), pct(times, 95), max(times), len(times), statistics.median(sizes), extra))
    print("result console_%s_%d_p50_ms=%.2f" % (key, loaded, pct(times, 50)))
    print("result console_%s_%d_p95_ms=%.2f" % (key, loaded, pct(times, 95)))


print("console API at %d entries, %d requests each (after 3 warm-up), one keep-alive connection:" % (loaded, REQUESTS))
timed("first list page (25)", "list_first", "/api/entries?pageSize=25")
timed("first list page (200)", "list_first200", "/api/entries?pageSize=200")
timed("filtered: status=pending (2% of entries)", "list_pending", "/api/entries?status=pending&pageSize=25")
timed("filtered: kind=prefix (1%, rules table)", "list_prefix", "/api/entries?kind=prefix&pageSize=25")
timed("filtered: mode=monitor (none: the read bound)", "list_none", "/api/entries?mode=monitor&pageSize=25")
timed("filtered: notHitSince=1d (1/3 never hit)", "list_idle", "/api/entries?notHitSince=1d&pageSize=25")
# Deep in: follow DEPTH cursors of 25, then time the page there.
cursor, start = None, time.perf_counter()
for _ in range(DEPTH):
    page = json.loads(get("/api/entries?pageSize=25" + ("&cursor=" + cursor if cursor else "")))
    cursor = page["next"]
walk = (time.perf_counter() - start) * 1000
print("  (followed %d cursors of 25 in %.0f ms: %.2f ms a page)" % (DEPTH, walk, walk / DEPTH))
timed("page %d (after %d cursors of 25)" % (DEPTH + 1, DEPTH), "list_deep", "/api/entries?pageSize=25&cursor=" + cursor)
timed("number search (/api/entry: GetItem + audit Query)", "search",
      "/api/entry?kind=block&input=" + urllib.parse.quote("(415) 555-0123"))
timed("normalize (/api/normalize)", "normalize", "/api/normalize?input=" + urllib.parse.quote("(415) 555-0123"))

print("page weight (what the browser loads first; the console serves no compression):")
raw = gz = 0
for path in ["/", "/app.js", "/app.css"]:
    body = get(path, auth=False)
    z = len(gzip.compress(body, 9))
    raw, gz = raw + len(body), gz + z
    print("  %-10s %7d bytes raw, %6d gzip -9" % (path, len(body), z))
print("  total      %7d bytes raw, %6d gzip -9" % (raw, gz))
print("result console_page_bytes=%d" % raw)
print("result console_page_gzip_bytes=%d" % gz)
