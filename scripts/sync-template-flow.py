#!/usr/bin/env python3
"""Copies the flows in contact-flows/ into template.yaml.

Each flow file is the one source of truth; template.yaml deploys the same
content with the file's placeholder Lambda ARN replaced by the stack's
function. tests/template.rs fails when they drift; this script brings them
back in step. Run it from anywhere: python3 scripts/sync-template-flow.py
"""
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
# flow file -> (placeholder ARN in the file, what the template puts there)
FLOWS = {
    "contact-flows/block-unwanted-callers.json": (
        "arn:aws:lambda:REGION:ACCOUNT_ID:function:connect-blocklist",
        "${BlocklistFunction.Arn}",
    ),
    "contact-flows/report-caller.json": (
        "arn:aws:lambda:REGION:ACCOUNT_ID:function:connect-blocklist-report",
        "${ReportFunction.Arn}",
    ),
}
INDENT = " " * 8

template = ROOT / "template.yaml"
lines = template.read_text().splitlines()
for path, (placeholder, arn) in FLOWS.items():
    flow = json.loads((ROOT / path).read_text())
    content = json.dumps(flow, indent=2, ensure_ascii=False).replace(placeholder, arn)
    begin, end = f"# BEGIN {path}", f"# END {path}"
    block = [begin, "      Content: !Sub |"] + [INDENT + line for line in content.splitlines()] + [end]
    start, stop = lines.index(begin), lines.index(end)
    lines[start : stop + 1] = block
    print(f"template.yaml: flow content synced from {path}")
template.write_text("\n".join(lines) + "\n")
