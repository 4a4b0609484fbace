#!/usr/bin/env python3
"""Writes the committed seed corpora under fuzz/seeds/ (run from anywhere).

seeds/normalize/:    raw caller IDs: the tests' numbers, withheld IDs,
                     RFC 3966 strings, the referee file's inputs, the demo CSV.
seeds/event_answer/: one settings byte, then a JSON event: every events/*.json
                     file, plus each caller ID above in the three places an
                     event can carry it (CustomerEndpoint.Address,
                     Parameters.phoneNumber, a bare {"phoneNumber": ...}).

The settings byte (see fuzz_targets/event_answer.rs) picks FAIL_MODE,
BLOCK_ANONYMOUS, INVALID_NUMBER_ACTION, DEFAULT_COUNTRY, RECORD_HITS and
whether the store's rules or hit writes fail; seeds cycle through a few.

Files named cmin-* in those folders are not written here: they are the
corpus of a 10-minute run, minimized (fuzz/README.md), and are kept.
"""

import csv
import hashlib
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fuzz" / "seeds"

# Caller IDs the tests use (tests/normalization.rs, tests/lambda_handler.rs,
# src/phone.rs), plus numbers the fuzz store treats specially.
NUMBERS = [
    # valid, several formats and countries
    "+14155550123", "14155550123", "4155550123", "+1 (415) 555-0123",
    "(415) 555-0123", "415.555.0123", "1-415-555-0123", " +1 415 555 0123 ",
    "tel:+14155550123", "TEL:+14155550123", "sip:+14155550123@sip.example.com",
    "+1-800-FLOWERS", "011 44 20 7946 0958", "020 7946 0958", "+442079460958",
    "00 44 20 7946 0958", "+919876543210", "09876543210", "+4930901820",
    "030 901820", "+33 1 23 45 67 89", "+81 3-1234-5678", "+55 11 91234-5678",
    "+61 2 9374 4000",
    # the fuzz store: blocked, expired, pending, message, queue, fallbacks,
    # allowed, prefix rules, lookup error (...666), lookup timeout (...777)
    "+14155550124", "+14155550125", "+14155550126", "+14155550127",
    "+14155550128", "+14155550129", "+14155550199", "+14155550190",
    "+19005550100", "+19007770100", "+1 900 777 1234", "+12125550123",
    "+16465550123", "+16475550123", "+449090123456", "+919812345678",
    "+14155550666", "+14155550777", "+442079460666", "+442079460777",
    # withheld
    "", "   ", "anonymous", "Anonymous", "ANONYMOUS", "restricted",
    "Restricted", "unavailable", "unknown", "private", "Private Number",
    "withheld", "blocked", "no caller id", "+266696687", "266696687",
    "+7378742833", "+86282452253", "86282452253", "8656696", "7748283",
    "2562533", "tel:+266696687", "sip:anonymous@anonymous.invalid",
    # invalid, and inputs that crash parsers
    "123", "+999 123456", " +999 123-456 ", "+0123", "+1234567890123456",
    "+1 415", "+", "12a4", "not a number at all!", "1;phone-context=+1;tel:2",
    ";phone-context=", "tel:1;phone-context=+1;tel:2", "+1 415 555 0123;ext=12",
    "+1 415 555 0123 ext 12", "<script>", "\u0000\u0001\u0002",
    "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660",
    "\U0001F600\U0001F600\U0001F600", "1" * 251, "\u00e9" * 300,
]

# Settings bytes the event seeds cycle through: defaults; fail closed + block
# anonymous + block invalid; GB; IN with hits off; DE with failing rules;
# failing hit writes.
SETTINGS = [0x00, 0x07, 0x08, 0x30, 0x59, 0x80]


def caller_ids():
    ids = list(NUMBERS)
    referee = json.loads((ROOT / "tests/data/normalization-referee.json").read_text())
    ids += [case["input"] for case in referee]
    with open(ROOT / "events/demo-blocklist.csv", newline="") as f:
        ids += [row["phoneNumber"] for row in csv.DictReader(f)]
    seen, unique = set(), []
    for i in ids:
        if i not in seen:
            seen.add(i)
            unique.append(i)
    return unique


def events(ids):
    for path in sorted((ROOT / "events").glob("*.json")):
        event = json.loads(path.read_text())
        yield path.stem, event
    for n, number in enumerate(ids):
        where = n % 3
        if where == 0:
            event = {
                "Name": "ContactFlowEvent",
                "Details": {
                    "ContactData": {
                        "Channel": "VOICE",
                        "ContactId": "c0ffee00-0000-4000-8000-000000000001",
                        "CustomerEndpoint": {"Address": number, "Type": "TELEPHONE_NUMBER"},
                    },
                    "Parameters": {},
                },
            }
        elif where == 1:
            event = {
                "Name": "ContactFlowEvent",
                "Details": {
                    "ContactData": {"Channel": "VOICE", "CustomerEndpoint": None},
                    "Parameters": {"phoneNumber": number},
                },
            }
        else:
            event = {"phoneNumber": number}
        yield f"number-{n:03}", event


# Valid JSON that serde_json refuses as it is (src/json_repair.rs): nesting
# deeper than 128, numbers beyond f64, lone surrogate escapes; written as raw
# text (Python's json would not write them), each under fail closed + block
# anonymous (0x07), where a misread shows as a block.
DEEP = "[" * 200 + "]" * 200
SERDE_REFUSED = {
    "serde-deep": DEEP,
    "serde-deep-details": '{"Details":' + DEEP + "}",
    "serde-huge-number": '{"phoneNumber": 1e400}',
    "serde-huge-numbers": '{"Details":{"Parameters":{"phoneNumber":-1e999}},"x":[1e400,2]}',
    "serde-lone-surrogates": '{"Details":{"ContactData":{"ContactId":"\\ud800","Channel":"\\udc00x"}}}',
    "serde-surrogate-number": '{"Details":{"Parameters":{"phoneNumber":"+1415555\\ud8000123"}}}',
    "serde-all-with-caller": '{"Details":{"ContactData":{"CustomerEndpoint":{"Address":"+14155550123"}}},"Extra":'
    + DEEP
    + ',"Big":1e400,"Odd":"\\ud800"}',
}


def write(directory, name, data):
    # Named by content, like libFuzzer's own corpus files, with a readable prefix.
    digest = hashlib.sha1(data).hexdigest()[:12]
    (directory / f"{name}-{digest}").write_bytes(data)


def main():
    normalize = SEEDS / "normalize"
    event_answer = SEEDS / "event_answer"
    for d in (normalize, event_answer):
        d.mkdir(parents=True, exist_ok=True)
        # Files named cmin-* are a minimized fuzzing corpus (see README.md): kept.
        for f in d.iterdir():
            if not f.name.startswith("cmin-"):
                f.unlink()

    ids = caller_ids()
    for n, number in enumerate(ids):
        write(normalize, f"id-{n:03}", number.encode())
    for n, (name, event) in enumerate(events(ids)):
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
        write(event_answer, name, bytes([SETTINGS[n % len(SETTINGS)]]) + body)
    for name, text in SERDE_REFUSED.items():
        write(event_answer, name, b"\x07" + text.encode())
    # Every events/*.json file also under the defaults, as the file itself.
    for path in sorted((ROOT / "events").glob("*.json")):
        write(event_answer, f"{path.stem}-file", b"\x00" + path.read_bytes())
    for d in (normalize, event_answer):
        print(f"{d.relative_to(ROOT)}: {len(list(d.iterdir()))} files")


if __name__ == "__main__":
    main()
