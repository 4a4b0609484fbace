#!/usr/bin/env python3
"""Times the console's API for bench/console.sh: one keep-alive HTTP
connection (as the page's), REQUESTS requests of each kind after 3 warm-up
ones, wall time from request sent to body read; then the list in last-block
order (sort=lastBlocked), each page checked against what the loader wrote
(bench/console-load.py --expect): the first page, page DEPTH + 1, the pages
where the hit index ends and past it, a kind, a filter few pass; then the
page weight. A page out of order, or not what was loaded, ends the run with
an error.
Usage: bench/console-client.py URL-WITH-TOKEN N EXPECT-FILE  (N: entries loaded, for the labels)"""

import base64
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
with open(sys.argv[3]) as f:
    expect = json.load(f)
if expect["n"] != loaded:
    sys.exit("console-client: %s is of %d entries, not %d" % (sys.argv[3], expect["n"], loaded))
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


def timed(name, key, path, check=None):
    """Times REQUESTS requests of path; check(page) on each answer's JSON."""
    for _ in range(3):
        get(path)
    times, sizes = [], []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        body = get(path)
        times.append((time.perf_counter() - start) * 1000)
        sizes.append(len(body))
        if check:
            check(json.loads(body))
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
timed("filtered: notHitSince=1d (9/10 never hit)", "list_idle", "/api/entries?notHitSince=1d&pageSize=25")
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


# The list in last-block order (sort=lastBlocked): the hit index of both
# tables merged newest first, then the entries that never blocked. Every
# page is checked against the loader's record of what blocked.
hits = [tuple(h) for h in expect["hits"]]  # (lastBlockedAt, kind, value, expired), newest first
shown = [(at, kind, value) for at, kind, value, expired in hits if not expired]  # default: not expired
LB = "/api/entries?sort=lastBlocked&pageSize=25"


def fail(what, page, want):
    got = [(e["lastBlockedAt"], e["kind"], e["phoneNumber"]) for e in page["entries"]]
    sys.exit("console-client: last-block order WRONG: %s\n  got  %s\n  want %s" % (what, got[:30], want[:30]))


def hits_of(page):
    """The page's entries as (lastBlockedAt, kind, value), checked to be in
    last-block order: newest first, then those that never blocked."""
    times = [e["lastBlockedAt"] for e in page["entries"]]
    blocked = [t for t in times if t]
    if times[:len(blocked)] != blocked or blocked != sorted(blocked, reverse=True):
        fail("lastBlockedAt not non-increasing (never blocked last)", page, [])
    return [(e["lastBlockedAt"], e["kind"], e["phoneNumber"]) for e in page["entries"] if e["lastBlockedAt"]]


def expect_page(want, what, full=True):
    def check(page):
        if hits_of(page) != want or (full and len(page["entries"]) != len(want)):
            fail(what, page, want)
    return check


def at(cursor, path=LB):
    return path + ("&cursor=" + cursor if cursor else "")


def kind_of(cursor):
    """Which phase a cursor is in: the hit index ("h:" + JSON) or the scan past it."""
    if not cursor:
        return "no cursor: the first page"
    plain = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    return "index cursor" if plain.startswith(b"h:") else "scan cursor"


print("last-block order (sort=lastBlocked) at %d entries: %d have blocked (%d shown: %d expired), "
      "checked page by page against the loader's record:" % (loaded, len(hits), len(shown), len(hits) - len(shown)))
timed("lastBlocked: first page (25)", "lastblock_first", LB,
      expect_page(shown[:25], "first page", full=len(shown) >= 25))
# Walk the whole index, a page at a time, checking each page is the next
# 25 loaded (exactly), until a page holds an entry that never blocked.
cursor, seen, pages, start = None, 0, 0, time.perf_counter()
page_cursors = {}  # page number (1-based) -> its cursor
while True:
    pages += 1
    page_cursors[pages] = cursor
    page = json.loads(get(at(cursor)))
    got = hits_of(page)
    if got != shown[seen:seen + len(got)]:
        fail("page %d (after %d entries)" % (pages, seen), page, shown[seen:seen + 25])
    seen += len(got)
    if pages == DEPTH:
        walk = (time.perf_counter() - start) * 1000
        print("  (followed %d cursors of 25 in %.0f ms: %.2f ms a page, each page checked)" % (DEPTH, walk, walk / DEPTH))
    if len(got) < len(page["entries"]) or not page.get("next"):
        break
    if len(got) != 25:
        fail("page %d: short inside the index" % pages, page, shown[seen:seen + 25])
    cursor = page["next"]
if seen != len(shown):
    sys.exit("console-client: last-block order WRONG: the walk showed %d entries that blocked, %d were loaded "
             "(not expired)" % (seen, len(shown)))
walk = (time.perf_counter() - start) * 1000
edge, past = pages, pages + 1
print("  (the index ends in page %d: %d entries that blocked, all shown once, in order, in %.1f s: "
      "%.2f ms a page)" % (edge, seen, walk / 1000, walk / pages))
page_cursors[past] = page["next"]
deep = DEPTH + 1
if deep >= edge:
    print("  (no page %d inside the index: it ends in page %d)" % (deep, edge))
else:
    timed("lastBlocked: page %d (after %d cursors)" % (deep, DEPTH), "lastblock_deep",
          at(page_cursors[deep]), expect_page(shown[DEPTH * 25:deep * 25], "page %d" % deep))
timed("lastBlocked: page %d, where the index ends (%s)" % (edge, kind_of(page_cursors[edge])), "lastblock_edge",
      at(page_cursors[edge]), expect_page(shown[(edge - 1) * 25:], "page %d" % edge, full=False))


def never_blocked(page):
    if len(page["entries"]) != 25 or any(e["lastBlockedAt"] or e["blockCount"] for e in page["entries"]):
        fail("page %d: not 25 entries that never blocked" % past, page, [])


timed("lastBlocked: page %d, past the index (%s)" % (past, kind_of(page_cursors[past])), "lastblock_past",
      at(page_cursors[past]), never_blocked)
prefixes = [h for h in shown if h[1] == "prefix"]
timed("lastBlocked, kind=prefix (rules table's index)", "lastblock_prefix", LB + "&kind=prefix",
      expect_page(prefixes[:25], "kind=prefix first page", full=len(prefixes) >= 25))
# status=expired: 1 in 1,010 of the entries that blocked (and as many that
# did not): the page reads the index to the read bound and is short.
expired = [(at, kind, value) for at, kind, value, exp in hits if exp]


def expired_page(page):
    got = hits_of(page)
    if got != expired[:len(got)] or not all(e["status"] == "expired" for e in page["entries"]):
        fail("status=expired first page", page, expired)
    if len(got) < 25 and not page.get("moreMayMatch"):
        fail("status=expired: short without moreMayMatch", page, expired)


timed("lastBlocked, status=expired (%d of %d blocked): the bound" % (len(expired), len(hits)),
      "lastblock_expired", LB + "&status=expired", expired_page)
# And to the end of the index with that filter: requests a reader's "Next"
# clicks make until every expired entry that blocked is shown.
cursor, found, clicks, start = None, [], 0, time.perf_counter()
while True:
    clicks += 1
    page = json.loads(get(at(cursor, LB + "&status=expired")))
    found += hits_of(page)
    cursor = page.get("next")
    if not cursor or kind_of(cursor) == "scan cursor":
        break
if found != expired:
    sys.exit("console-client: last-block order WRONG: status=expired through the index showed %s, loaded %s"
             % (found, expired))
print("  (status=expired through the whole index: %d requests, %.1f s, found all %d, in order)"
      % (clicks, time.perf_counter() - start, len(found)))
print("result console_lastblock_index_pages_%d=%d" % (loaded, edge))

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
