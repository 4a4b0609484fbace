#!/usr/bin/env python3
"""Bulk loader for bench/console.sh: N synthetic entries written straight to
the tables with BatchWriteItem (25 items a request, a few threads), bypassing
`blocklist add`/`import` (no audit records, no versions): a benchmark fixture,
not a way to add entries. Items are in the layout `item_from_entry` writes.

The mix (by index i): 1 in 100 is a prefix rule (rules table), 1 in 50 a
pending report, 1 in 10 a `queue` block, the rest are plain blocks. 1 in 10
of the blocks and 1 in 10 of the prefix rules have blocked calls, as the
Lambda's hit counter leaves them (`hitPartition` = "hit", which puts them in
the `byLastBlock` index, `lastBlockedAt`, `blockCount`): each at its own whole
second in the 90 days before the load. 2 in 10,000 entries are blocks that
expired (`expiresAt` in the past), one of the two a block that has blocked.

The tables must have the `byLastBlock` index (`blocklist init` makes it; so
does --create-tables): the loader checks, and refuses to load otherwise.
With --expect FILE it writes what the client checks the last-block order
against: every entry that blocked, newest first, and the counts.
Usage: bench/console-load.py N [--create-tables] [--expect FILE]  (AWS_ENDPOINT_URL_DYNAMODB,
table names from TABLE_NAME / RULES_TABLE_NAME or the defaults)."""

import json
import os
import sys
import threading
import time

import boto3
from botocore.config import Config

N = int(sys.argv[1])
EXPECT = sys.argv[sys.argv.index("--expect") + 1] if "--expect" in sys.argv else None
THREADS = int(os.environ.get("BENCH_LOAD_THREADS", "4"))
BLOCKS = os.environ.get("TABLE_NAME", "BlockedPhoneNumbers")
RULES = os.environ.get("RULES_TABLE_NAME", "BlocklistRules")
client = boto3.client(
    "dynamodb",
    endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
    region_name=os.environ.get("AWS_REGION", "us-east-1"),
    config=Config(retries={"max_attempts": 10, "mode": "standard"}, max_pool_connections=THREADS * 2),
)


# The hit index: its name and key attributes, as `blocklist init` makes it
# (src/admin/tables.rs) and the hit counter fills it (src/store/mod.rs).
HIT_INDEX = "byLastBlock"
# The last blocks are spread over the 90 days before the load, one whole
# second each: i * STRIDE mod SPAN is one-to-one for i < SPAN (STRIDE is
# prime to SPAN = 2^8 3^5 5^3), so no two entries share a time below 7.7M.
END = int(time.time())
SPAN = 90 * 86400
STRIDE = 1_000_003


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def item(i):
    """(table, item, hit) of entry i; hit: (lastBlockedAt, kind, value,
    expired) of an entry that has blocked, else None."""
    s = lambda v: {"S": v}
    created = s("2026-%02d-%02dT10:00:00Z" % (1 + i % 12, 1 + i % 28))

    def blocked(it, kind, value):
        # What the hit counter leaves: SET lastBlockedAt, hitPartition; ADD blockCount.
        at = iso(END - (i * STRIDE) % SPAN)
        it["hitPartition"] = s("hit")
        it["lastBlockedAt"] = s(at)
        it["blockCount"] = {"N": str(1 + (i // 100) % 40)}
        return at, kind, value, "expiresAt" in it

    if i % 100 == 1:
        value = "+1%d" % (2000000 + i // 100)  # an 8-digit prefix
        it = {"ruleKey": s("prefix#" + value), "phoneNumber": s(value), "kind": s("prefix"),
              "reason": s("bench prefix %d" % i), "createdAt": created}
        hit = blocked(it, "prefix", value) if (i // 100) % 10 == 4 else None
        return RULES, it, hit
    number = "+1415%07d" % (i % 10_000_000) if i < 10_000_000 else "+44207%07d" % (i % 10_000_000)
    if i % 50 == 2:
        return BLOCKS, {"phoneNumber": s("report#" + number), "kind": s("report"), "status": s("pending"),
                        "reason": s("reported %d" % i), "createdAt": created, "contactId": s("c-%d" % i)}, None
    it = {"phoneNumber": s(number), "reason": s("bench block %d" % i), "createdAt": created}
    if i % 10 == 3:
        it["action"] = s("queue")
        it["queueArn"] = s("arn:aws:connect:us-east-1:123456789012:instance/x/queue/q")
    if i % 10_000 in (45, 5005):  # expired 1 to 30 days ago; 45 is also a hit below
        it["expiresAt"] = {"N": str(END - 86400 * (1 + i % 30))}
    hit = blocked(it, "block", number) if (i // 10) % 10 == 4 else None
    return BLOCKS, it, hit


def write(table, items):
    requests = [{"PutRequest": {"Item": it}} for it in items]
    while requests:
        out = client.batch_write_item(RequestItems={table: requests})
        requests = out.get("UnprocessedItems", {}).get(table, [])
        if requests:
            time.sleep(0.05)


done = [0]
lock = threading.Lock()
hits = []  # (lastBlockedAt, kind, value, expired) of every entry that blocked


def worker(k):
    batches = {BLOCKS: [], RULES: []}
    mine = []
    for i in range(k, N, THREADS):
        table, it, hit = item(i)
        if hit:
            mine.append(hit)
        batches[table].append(it)
        if len(batches[table]) == 25:
            write(table, batches[table])
            batches[table] = []
            with lock:
                done[0] += 25
    for table, rest in batches.items():
        if rest:
            write(table, rest)
    with lock:
        hits.extend(mine)


if "--create-tables" in sys.argv:
    # The schema `blocklist init` creates, hit index included (for a load
    # started before the binary is built); `init` afterwards finds them and
    # leaves them be.
    string = lambda name: {"AttributeName": name, "AttributeType": "S"}
    for table, key in ((BLOCKS, "phoneNumber"), (RULES, "ruleKey")):
        try:
            client.create_table(
                TableName=table, BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[string(key), string("hitPartition"), string("lastBlockedAt")],
                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                GlobalSecondaryIndexes=[{
                    "IndexName": HIT_INDEX,
                    "KeySchema": [{"AttributeName": "hitPartition", "KeyType": "HASH"},
                                  {"AttributeName": "lastBlockedAt", "KeyType": "RANGE"}],
                    "Projection": {"ProjectionType": "ALL"}}])
        except client.exceptions.ResourceInUseException:
            pass
        for _ in range(600):
            if client.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE":
                break
            time.sleep(0.1)

# The list in last-block order reads the hit index: a table without it
# (made before `blocklist init` had it) would load items it never lists.
for table in (BLOCKS, RULES):
    try:
        indexes = client.describe_table(TableName=table)["Table"].get("GlobalSecondaryIndexes", [])
    except client.exceptions.ResourceNotFoundException:
        sys.exit("console-load: no table %s: run `blocklist init` first (or pass --create-tables)" % table)
    index = next((x for x in indexes if x["IndexName"] == HIT_INDEX), None)
    keys = index and [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]]
    if keys != [("hitPartition", "HASH"), ("lastBlockedAt", "RANGE")] or \
            index["Projection"]["ProjectionType"] != "ALL":
        sys.exit("console-load: table %s has no %s index (hitPartition, lastBlockedAt; ALL): "
                 "run `blocklist init` on fresh tables first (got %s)" % (table, HIT_INDEX, indexes))

start = time.time()
threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
for t in threads:
    t.start()
last = start
while any(t.is_alive() for t in threads):
    time.sleep(1)
    if time.time() - last >= 30:
        last = time.time()
        print("  loaded ~%d of %d (%.0f/s)" % (done[0], N, done[0] / (last - start)), file=sys.stderr, flush=True)
for t in threads:
    t.join()
secs = time.time() - start
print("loaded %d entries in %.1f s (%.0f items/s, %d threads, BatchWriteItem)" % (N, secs, N / secs, THREADS))
hits.sort(reverse=True)  # newest first; no two share a time
assert len({h[0] for h in hits}) == len(hits), "two last blocks at the same second"
print("  of them %d have blocked (%d blocks, %d prefix rules; %s .. %s), %d expired (%d of them blocked)" % (
    len(hits), sum(h[1] == "block" for h in hits), sum(h[1] == "prefix" for h in hits),
    hits[-1][0] if hits else "-", hits[0][0] if hits else "-",
    sum(1 for i in range(N) if i % 10_000 in (45, 5005)), sum(h[3] for h in hits)))
if EXPECT:
    with open(EXPECT, "w") as f:
        json.dump({"n": N, "hits": [list(h) for h in hits]}, f)
