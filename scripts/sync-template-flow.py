#!/usr/bin/env python3
"""Copies the flows in contact-flows/ into template.yaml.

Each flow file is the one source of truth; template.yaml deploys the same
content with the file's placeholders replaced by what the stack knows: the
Lambda ARN by the stack's function, the fail mode by the FailMode parameter
and the next flow by NextContactFlowArn. tests/template.rs fails when they
drift; this script brings them back in step. Run it from anywhere:
python3 scripts/sync-template-flow.py
"""
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
LOOKUP = ("arn:aws:lambda:REGION:ACCOUNT_ID:function:connect-blocklist", "${BlocklistFunction.Arn}")
# The lookup-error path compares this contact attribute with "closed": the file
# says "open" (the Lambda's default), the stack says what FailMode says.
FAIL_MODE = ('"blocklistFailMode": "open"', '"blocklistFailMode": "${FailMode}"')
NEXT_FLOW = (
    "arn:aws:connect:REGION:ACCOUNT_ID:instance/INSTANCE_ID/contact-flow/NEXT_FLOW_ID",
    "${NextContactFlowArn}",
)
# flow file -> (placeholder in the file, what the template puts there) pairs
FLOWS = {
    "contact-flows/block-unwanted-callers.json": [LOOKUP, FAIL_MODE, NEXT_FLOW],
    "contact-flows/blocklist-module.json": [LOOKUP, FAIL_MODE],
    "contact-flows/report-caller.json": [
        ("arn:aws:lambda:REGION:ACCOUNT_ID:function:connect-blocklist-report", "${ReportFunction.Arn}"),
    ],
}

template = ROOT / "template.yaml"
lines = template.read_text().splitlines()
for path, substitutions in FLOWS.items():
    flow = json.loads((ROOT / path).read_text())
    content = json.dumps(flow, indent=2, ensure_ascii=False)
    for placeholder, value in substitutions:
        if placeholder not in content:
            raise SystemExit(f"{path} lacks {placeholder!r}: update this script with the flow")
        content = content.replace(placeholder, value)
    begin, end = f"# BEGIN {path}", f"# END {path}"
    start, stop = lines.index(begin), lines.index(end)
    # Content sits at the indentation of the properties above the marker.
    indent = " " * (len(lines[start - 2]) - len(lines[start - 2].lstrip()))
    body = [indent + "  " + line for line in content.splitlines()]
    lines[start : stop + 1] = [begin, indent + "Content: !Sub |"] + body + [end]
    print(f"template.yaml: flow content synced from {path}")
template.write_text("\n".join(lines) + "\n")
