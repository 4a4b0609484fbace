#!/usr/bin/env python3
"""Bulk loader for bench/console.sh: N synthetic entries written straight to
the tables with BatchWriteItem (25 items a request, a few threads), bypassing
`blocklist add`/`import` (no audit records, no versions): a benchmark fixture,
not a way to add entries. Items are in the layout `item_from_entry` writes.

The mix (by index i): 1 in 100 is a prefix rule (rules table), 1 in 50 a
pending report, 1 in 10 a `queue` block, every third block has been hit
(lastBlockedAt, blockCount), the rest are plain blocks.
Usage: bench/console-load.py N [--create-tables]  (AWS_ENDPOINT_URL_DYNAMODB, table names from
TABLE_NAME / RULES_TABLE_NAME or the defaults)."""

import os
import sys
import threading
import time

import boto3
from botocore.config import Config

N = int(sys.argv[1])
THREADS = int(os.environ.get("BENCH_LOAD_THREADS", "4"))
BLOCKS = os.environ.get("TABLE_NAME", "BlockedPhoneNumbers")
RULES = os.environ.get("RULES_TABLE_NAME", "BlocklistRules")
client = boto3.client(
    "dynamodb",
    endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
    region_name=os.environ.get("AWS_REGION", "us-east-1"),
    config=Config(retries={"max_attempts": 10, "mode": "standard"}, max_pool_connections=THREADS * 2),
)


def item(i):
    """(table, item) of entry i."""
    s = lambda v: {"S": v}
    created = s("2026-%02d-%02dT10:00:00Z" % (1 + i % 12, 1 + i % 28))
    if i % 100 == 1:
        value = "+1%d" % (2000000 + i // 100)  # an 8-digit prefix
        return RULES, {"ruleKey": s("prefix#" + value), "phoneNumber": s(value), "kind": s("prefix"),
                       "reason": s("bench prefix %d" % i), "createdAt": created}
    number = "+1415%07d" % (i % 10_000_000) if i < 10_000_000 else "+44207%07d" % (i % 10_000_000)
    if i % 50 == 2:
        return BLOCKS, {"phoneNumber": s("report#" + number), "kind": s("report"), "status": s("pending"),
                        "reason": s("reported %d" % i), "createdAt": created, "contactId": s("c-%d" % i)}
    it = {"phoneNumber": s(number), "reason": s("bench block %d" % i), "createdAt": created}
    if i % 10 == 3:
        it["action"] = s("queue")
        it["queueArn"] = s("arn:aws:connect:us-east-1:123456789012:instance/x/queue/q")
    if i % 3 == 0:
        it["lastBlockedAt"] = s("2026-%02d-%02dT12:%02d:00Z" % (1 + i % 11, 1 + i % 28, i % 60))
        it["blockCount"] = {"N": str(1 + i % 40)}
    return BLOCKS, it


def write(table, items):
    requests = [{"PutRequest": {"Item": it}} for it in items]
    while requests:
        out = client.batch_write_item(RequestItems={table: requests})
        requests = out.get("UnprocessedItems", {}).get(table, [])
        if requests:
            time.sleep(0.05)


done = [0]
lock = threading.Lock()


def worker(k):
    batches = {BLOCKS: [], RULES: []}
    for i in range(k, N, THREADS):
        table, it = item(i)
        batches[table].append(it)
        if len(batches[table]) == 25:
            write(table, batches[table])
            batches[table] = []
            with lock:
                done[0] += 25
    for table, rest in batches.items():
        if rest:
            write(table, rest)


if "--create-tables" in sys.argv:
    # The schema `blocklist init` creates (for a load started before the
    # binary is built); `init` afterwards finds them and leaves them be.
    for table, key in ((BLOCKS, "phoneNumber"), (RULES, "ruleKey")):
        try:
            client.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}])
        except client.exceptions.ResourceInUseException:
            pass

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
