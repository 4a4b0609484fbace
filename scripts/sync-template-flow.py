#!/usr/bin/env python3
"""Copies contact-flows/block-unwanted-callers.json into template.yaml.

The flow file is the one source of truth; template.yaml deploys the same
content with the placeholder Lambda ARN replaced by the stack's function.
tests/template.rs fails when the two drift; this script brings them back in
step. Run it from anywhere: python3 scripts/sync-template-flow.py
"""
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
FLOW = "contact-flows/block-unwanted-callers.json"
PLACEHOLDER = "arn:aws:lambda:REGION:ACCOUNT_ID:function:connect-blocklist"
BEGIN, END = f"# BEGIN {FLOW}", f"# END {FLOW}"
INDENT = " " * 8

flow = json.loads((ROOT / FLOW).read_text())
content = json.dumps(flow, indent=2, ensure_ascii=False).replace(PLACEHOLDER, "${BlocklistFunction.Arn}")
block = [BEGIN, "      Content: !Sub |"] + [INDENT + line for line in content.splitlines()] + [END]

template = ROOT / "template.yaml"
lines = template.read_text().splitlines()
start, end = lines.index(BEGIN), lines.index(END)
lines[start : end + 1] = block
template.write_text("\n".join(lines) + "\n")
print(f"template.yaml: flow content synced from {FLOW}")
