# The mixed international set benches/normalize.rs times and fuzz/make_seeds.py seeds from (tests/referee.rs is the full referee). Regenerate with Python phonenumbers (libphonenumber) as referee:
#   pip install phonenumbers && python3 tests/data/make-normalization-referee.py > tests/data/normalization-referee.json
import phonenumbers, json
cases = [
 ("+1 415-555-0123","US"),("(415) 555-0123","US"),("415.555.0123","US"),("4155550123","US"),
 ("1-415-555-0123","US"),("011 44 20 7946 0958","US"),("+1-800-FLOWERS","US"),("1-800-FLOWERS","US"),
 ("+1 (212) 555 0199","US"),("+1 604 555 0142","CA"),("(604) 555-0142","CA"),
 ("020 7946 0958","GB"),("+44 20 7946 0958","GB"),("00 44 20 7946 0958","GB"),("07700 900123","GB"),("+447700900123","US"),
 ("01 23 45 67 89","FR"),("+33 1 23 45 67 89","FR"),("0033 6 12 34 56 78","FR"),("06 12 34 56 78","FR"),
 ("030 901820","DE"),("+49 30 901820","DE"),("+49 1512 3456789","DE"),("0151 23456789","DE"),
 ("098765 43210","IN"),("+91 98765 43210","IN"),("9876543210","IN"),("+91-11-2345-6789","IN"),
 ("(11) 91234-5678","BR"),("+55 11 91234-5678","BR"),
 ("138 0013 8000","CN"),("+86 138 0013 8000","CN"),
 ("03-1234-5678","JP"),("+81 3-1234-5678","JP"),("090-1234-5678","JP"),
 ("0412 345 678","AU"),("+61 412 345 678","AU"),("(02) 9876 5432","AU"),
 ("55 1234 5678","MX"),("+52 55 1234 5678","MX"),
 ("+34 612 34 56 78","ES"),("612345678","ES"),
 ("+27 82 123 4567","ZA"),("082 123 4567","ZA"),
 ("+971 50 123 4567","AE"),("050 123 4567","AE"),
 ("+65 6123 4567","SG"),
 # invalid
 ("123","US"),("+1 555","US"),("+999 123456","US"),("000000000000","US"),("+44 20 7946","GB"),("12345678901234567890","US"),("+1 415 555 01234","US"),
]
out=[]
for raw, region in cases:
    try:
        n = phonenumbers.parse(raw, region)
        ok = phonenumbers.is_valid_number(n)
        e = phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164) if ok else None
    except phonenumbers.NumberParseException:
        e = None
    out.append({"input": raw, "country": region, "e164": e})
print(json.dumps(out, indent=1))
