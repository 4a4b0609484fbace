#!/usr/bin/env python3
"""The caller-ID referee corpus: inputs generated from Google's libphonenumber
metadata (Python `phonenumbers`, pinned in tools/requirements-ci.txt to the
metadata version rlibphonenumber ships), each with libphonenumber's verdict.

Run by tests/referee.rs, which reads the project's answer for each line and
counts every disagreement by category. One JSON object per line:

  {"input": "...", "country": "GB", "category": "national", "referee": "+44…" | null,
   "withheld": false}

`country` is the default country the input is read with; `referee` is the E.164
number when `phonenumbers.parse(input, country)` gives a valid number, else null;
`withheld` marks the spellings carriers use for a withheld number, which the
project reads as withheld where the referee finds no valid number.

Inputs (about 60,000): every region's and non-geographic entity's example
number of every type, in E.164, international, national and RFC 3966 format,
read with the number's own region and with the project's default (US, no
DEFAULT_COUNTRY); then each example perturbed the ways caller IDs arrive:
URI schemes in any case and SIP URIs, RFC 3966 parameters, non-ASCII digits
and separators, pauses and extensions, a digit dropped, added or changed;
the withheld spellings in every region; and seeded random strings.
"""

import json
import random
import sys

import phonenumbers as pn
from phonenumbers import PhoneNumberFormat as Fmt
from phonenumbers import PhoneNumberType as T

DEFAULT = "US"  # the project's default country when DEFAULT_COUNTRY is unset
TYPES = [
    T.FIXED_LINE, T.MOBILE, T.TOLL_FREE, T.PREMIUM_RATE, T.SHARED_COST, T.VOIP,
    T.PERSONAL_NUMBER, T.PAGER, T.UAN, T.VOICEMAIL,
]
KEYPAD_SPELLINGS = ["266696687", "7378742833", "86282452253", "8656696", "7748283", "2562533"]
WITHHELD_WORDS = [
    "anonymous", "Anonymous", "RESTRICTED", "Restricted Number", "Anonymous Caller", "P", "O",
    "private", "Private Number", "unavailable", "Unknown", "withheld", "Blocked", "out of area",
    "No Caller ID", "anonymous_caller", "sip:anonymous@anonymous.invalid", "",
]
FULLWIDTH = {str(d): chr(0xFF10 + d) for d in range(10)}
ARABIC_INDIC = {str(d): chr(0x0660 + d) for d in range(10)}
EXTENDED_ARABIC_INDIC = {str(d): chr(0x06F0 + d) for d in range(10)}


def verdict(text, country):
    """libphonenumber's reading: the E.164 number if valid, else None."""
    try:
        number = pn.parse(text, country)
    except pn.NumberParseException:
        return None
    if not pn.is_valid_number(number):
        return None
    return pn.format_number(number, Fmt.E164)


def fold(text):
    """Lower case, `_-.` as spaces, runs of spaces as one (as src/phone.rs compares words)."""
    return " ".join(text.lower().replace("_", " ").replace("-", " ").replace(".", " ").split())


FOLDED_WORDS = {fold(word) for word in WITHHELD_WORDS}


def emit(out, text, country, category, withheld=False):
    # Blank is how some trunks say "withheld" too; random text can spell `P` or `O`.
    withheld = withheld or not text.strip() or fold(text) in FOLDED_WORDS
    out.write(json.dumps({
        "input": text, "country": country, "category": category,
        "referee": verdict(text, country), "withheld": withheld,
    }, ensure_ascii=False) + "\n")


def examples():
    """(number, region) for every example number there is."""
    for region in sorted(pn.SUPPORTED_REGIONS):
        for kind in TYPES:
            number = pn.example_number_for_type(region, kind)
            if number is not None:
                yield number, region
    for code in sorted(pn.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        number = pn.example_number_for_non_geo_entity(code)
        if number is not None:
            yield number, "001"


def formats(number, region, out):
    """Each example in each format, with its own region and the default."""
    e164 = pn.format_number(number, Fmt.E164)
    intl = pn.format_number(number, Fmt.INTERNATIONAL)
    national = pn.format_number(number, Fmt.NATIONAL)
    rfc = pn.format_number(number, Fmt.RFC3966)
    home = region if region != "001" else DEFAULT
    for country in sorted({home, DEFAULT}):
        emit(out, e164, country, "e164")
        emit(out, intl, country, "international")
        emit(out, rfc, country, "rfc3966")
    emit(out, national, home, "national")
    return e164, intl, national


def digits_as(text, table):
    return "".join(table.get(c, c) for c in text)


def perturbations(number, region, e164, intl, national, rng):
    """The ways a caller ID arrives, as (category, text, country)."""
    home = region if region != "001" else DEFAULT
    code = str(number.country_code)
    nsn = pn.national_significant_number(number)
    yield "scheme-case", "Tel:" + e164, home
    yield "scheme-case", "TEL:" + intl, home
    yield "sip-uri", "sip:" + e164 + "@sip.example.com", home
    yield "sip-uri", "SIPS:" + e164 + "@sip.example.com;transport=tls", home
    yield "sip-uri", "<sip:" + e164 + "@10.0.0.1;user=phone>", home
    yield "rfc3966-ext", "tel:" + e164 + ";ext=123", home
    yield "rfc3966-isub", "tel:" + e164 + ";isub=1234", home
    yield "rfc3966-context", "tel:" + nsn + ";phone-context=+" + code, DEFAULT
    yield "rfc3966-context", nsn + ";phone-context=+" + code + ";ext=5", DEFAULT
    yield "rfc3966-context-domain", "tel:" + national + ";phone-context=example.com", home
    yield "rfc3966-context-misplaced", nsn + ";phone-context=+" + code + ";tel:1", DEFAULT
    yield "no-break-space", intl.replace(" ", "\u00a0"), home
    yield "narrow-no-break-space", intl.replace(" ", "\u202f"), home
    yield "fullwidth", digits_as(e164, FULLWIDTH).replace("+", "\uff0b"), home
    yield "fullwidth", digits_as(national, FULLWIDTH), home
    yield "arabic-indic", digits_as(e164, ARABIC_INDIC), home
    yield "arabic-indic", digits_as(national, EXTENDED_ARABIC_INDIC), home
    yield "soft-hyphen", intl.replace(" ", "\u00ad"), home
    yield "zero-width-space", intl.replace(" ", "\u200b"), home
    yield "pause", e164 + ",,123", home
    yield "extension", e164 + "#123", home
    yield "extension", intl + " x123", home
    yield "extension", intl + " ext. 123", home
    yield "extension", e164 + "*123", home
    yield "tilde", intl.replace(" ", "~", 1), home
    yield "leading-text", "Call " + intl, home
    cut = rng.randrange(1, len(e164))
    yield "digit-dropped", e164[:cut] + e164[cut + 1:], home
    yield "digit-added", e164[:cut] + str(rng.randrange(10)) + e164[cut:], home
    digits = list(e164)
    digits[cut] = str(rng.randrange(10))
    yield "digit-changed", "".join(digits), home


def withheld(out):
    """The keypad spellings, bare and with `+`, in every region; the words."""
    for region in sorted(pn.SUPPORTED_REGIONS):
        for spelling in KEYPAD_SPELLINGS:
            emit(out, spelling, region, "withheld-spelling", withheld=True)
            emit(out, "+" + spelling, region, "withheld-spelling", withheld=True)
    for word in WITHHELD_WORDS:
        emit(out, word, DEFAULT, "withheld-word", withheld=True)


FUZZ_ALPHABET = (
    "0123456789" * 4 + "+-.()/ \t,;#*x~=:@<>" + "telsipTELSIPextphoncx"
    + "\u00a0\u00ad\u200b\uff0b\uff10\uff11\u0661\u0662\u06f3\u2011\u2013\u3000é😀"
)


def fuzz(out, rng, count):
    """Seeded random strings over the characters caller IDs are made of."""
    regions = ["US", "GB", "IN", "BR", "DE", "JP", "FR", "AU", "CN", "NG"]
    for i in range(count):
        text = "".join(rng.choice(FUZZ_ALPHABET) for _ in range(rng.randrange(0, 30)))
        emit(out, text, regions[i % len(regions)], "fuzz")


def main():
    rng = random.Random(20261201)
    out = sys.stdout
    for number, region in examples():
        e164, intl, national = formats(number, region, out)
        for category, text, country in perturbations(number, region, e164, intl, national, rng):
            emit(out, text, country, category)
    withheld(out)
    fuzz(out, rng, 16000)


if __name__ == "__main__":
    main()
