#!/usr/bin/env python3
"""Writes the seed corpora of Fuzz/Corpus from the repository's own files.

    python3 Fuzz/make-seeds.py        # from the repository root; needs PyYAML

ISO 8583 frames are built by a small independent encoder driven by specs/iso8583/*.yaml (only what
the seeds need: fixed and LL/LLL fields, every shipped encoding), and checked against the reference
frames of conformance/frames before anything is written. The iso8583 seeds start with the byte
that selects the dialect (its index in Dialect.shippedNames); the framing seeds with the byte that
selects the frame format and one giving the chunk sizes (see Sources/framing/framing.swift).
"""
import os
import re
import shutil
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "Fuzz", "Corpus")
SHIPPED = ["iso87ascii", "iso87binary", "iso87bcd", "iso87ebcdic", "iso93ascii"]


# MARK: A minimal ISO 8583 encoder over the dialect spec files

def read_spec(name_or_text, is_text=False):
    doc = yaml.safe_load(name_or_text if is_text else open(os.path.join(ROOT, "specs/iso8583", name_or_text + ".yaml")))
    if "extends" in doc:
        spec = read_spec(doc["extends"])
    else:
        spec = {"mti": "ascii", "bitmap": "binary", "tertiary": False, "prefix": "ascii", "encoding": {}, "fields": {}}
    for key, target in [("mti", "mti"), ("bitmap", "bitmap"), ("tertiary-bitmap", "tertiary"), ("prefix", "prefix")]:
        if key in doc:
            spec[target] = doc[key]
    spec["encoding"] = dict(spec["encoding"], **doc.get("encoding", {}))
    fields = dict(spec["fields"])
    for entry in doc.get("fields", []):
        if "fields" in entry:
            low, high = (int(x) for x in str(entry["fields"]).split("-"))
            numbers = range(low, high + 1)
        else:
            numbers = [entry["field"]]
        props = {k: v for k, v in entry.items() if k not in ("field", "fields")}
        for number in numbers:
            fields[number] = dict(fields.get(number, {}), **props)
    spec["fields"] = fields
    return spec


def ebcdic(text):
    return text.encode("cp037")


def encode_field(spec, number, value):
    field = spec["fields"][number]
    cls = field["class"]
    encoding = field.get("encoding") or spec["encoding"].get(cls) or ("binary" if cls == "b" else "ascii")
    prefix = field.get("prefix") or spec["prefix"]
    length = str(field["length"])
    if cls == "b":
        raw = bytes.fromhex(value) if isinstance(value, str) else value
        units = len(raw)
        data = raw if encoding == "binary" else raw.hex().upper().encode()
        prefix_value = units * 2 if encoding == "hex" else units
    else:
        units = len(value)
        if encoding == "bcd":
            digits = value.replace("=", "D")
            pad = str(field.get("pad-char", "0"))
            if len(digits) % 2:
                digits = digits + pad if field.get("pad") == "right" else pad + digits
            data = bytes.fromhex(digits)
        elif encoding == "ebcdic":
            data = ebcdic(value)
        else:
            data = value.encode("latin-1")
        prefix_value = units
    if length.isdigit():
        assert units == int(length), f"DE {number}: {units} units, the spec says {length}"
        return data
    digits = {"LL": 2, "LLL": 3, "LLLL": 4}[length]
    assert units <= field["max"], f"DE {number}: over the maximum"
    text = str(prefix_value).zfill(digits)
    if prefix == "ascii":
        return text.encode() + data
    if prefix == "ebcdic":
        return ebcdic(text) + data
    if prefix == "bcd":
        return bytes.fromhex(text.zfill(digits + digits % 2)) + data
    return prefix_value.to_bytes(1 if digits <= 2 else 2, "big") + data


def encode(spec, mti, values):
    numbers = sorted(values)
    words = [0, 0, 0]
    for number in numbers:
        words[(number - 1) // 64] |= 1 << (63 - (number - 1) % 64)
    if words[2]:
        assert spec["tertiary"]
        words[1] |= 1 << 63  # bit 65
    if words[1]:
        words[0] |= 1 << 63  # bit 1

    def bitmap(word):
        raw = word.to_bytes(8, "big")
        if spec["bitmap"] == "binary":
            return raw
        text = raw.hex().upper()
        return text.encode() if spec["bitmap"] == "hex" else ebcdic(text)

    out = {"ascii": mti.encode(), "ebcdic": ebcdic(mti), "bcd": bytes.fromhex(mti)}[spec["mti"]]
    out += bitmap(words[0])
    if words[1]:
        out += bitmap(words[1])
    wrote_tertiary = False
    for number in numbers:
        if number > 65 and words[2] and not wrote_tertiary:
            out += bitmap(words[2])
            wrote_tertiary = True
        out += encode_field(spec, number, values[number])
    return out


# MARK: Messages

EMV = ("9F260811223344556677889F2701809F10120110A00003220000000000000000000000FF9F3704A1B2C3D49F3602004295"
       "0500000800009A032611209C01009F02060000000100005F2A020840820239009F1A0208409F3303E0F0C8")

def test_card(test_range, account):
    """A published test card number: a test range and an account number with their Luhn check
    digit, so no card number is written here."""
    digits = [int(d) for d in test_range + account]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if index % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return test_range + account + str((10 - total % 10) % 10)


# The conformance frames' card (conformance/frames/0200_*.bin) and Visa's published test card.
SAMPLE_CARD = test_card("476173", "900101011")
VISA_CARD = test_card("411111", "111111111")

# The content of the conformance frames (conformance/frames/0200_*.bin).
AUTH87 = {
    2: SAMPLE_CARD, 3: "000000", 4: "000000010000", 7: "1120153045", 11: "123456", 12: "153045",
    13: "1120", 14: "2712", 18: "5411", 22: "051", 25: "00", 32: "123456", 35: SAMPLE_CARD + "=27122011143804400000",
    37: "432015123456", 41: "TERM0001", 42: "MERCHANT0000001", 43: "ACME STORE 42          SPRINGFIELD  ILUS",
    49: "840", 52: "1A2B3C4D5E6F7081", 55: EMV,
}


def variants87():
    response = {k: v for k, v in AUTH87.items() if k not in (35, 52, 55)}
    response.update({38: "A1B2C3", 39: "00"})
    reversal = {k: v for k, v in AUTH87.items() if k in (2, 3, 4, 7, 11, 32, 37, 41, 42, 49)}
    reversal.update({39: "00", 90: "020012345611201530450000012345600000000000"})
    network = {7: "1120153045", 11: "000001", 70: "301"}
    wide = {**response, **{6: "000000009200", 51: "978", 19: "276", 33: "99", 44: "OK", 48: "CV003123XY002AB",
                             54: "1001840C000000001000", 62: "PRIVATE DATA", 100: "12345678901",
                             102: "DE89370400440532013000", 128: "0102030405060708", 129: "TERTIARY", 192: "LAST"}}
    return [("0200", AUTH87), ("0100", AUTH87), ("0110", response), ("0420", reversal), ("0800", network),
            ("0210", wide), ("0201", {2: VISA_CARD, 3: "000000", 4: "000000150000", 49: "978"})]


def variants93():
    auth = {2: SAMPLE_CARD, 3: "000000", 4: "000000010000", 7: "1120153045", 11: "123456",
            12: "261120153045", 14: "2712", 18: "5411", 22: "510101513344", 24: "100", 32: "123456",
            35: SAMPLE_CARD + "=27122011143804400000", 37: "432015123456", 41: "TERM0001",
            42: "MERCHANT0000001", 43: "ACME STORE 42>SPRINGFIELD IL US", 49: "840", 55: EMV}
    response = {k: v for k, v in auth.items() if k not in (35, 55)}
    response.update({38: "A1B2C3", 39: "000"})
    reversal = {k: v for k, v in auth.items() if k in (2, 3, 4, 11, 12, 24, 32, 37, 41, 42, 49)}
    reversal.update({24: "400", 25: "4000", 56: "120012345626112015304506123456"})
    network = {7: "1120153045", 11: "000001", 12: "261120153045", 24: "831"}
    wide = {**response, **{48: "ADDITIONAL", 53: "0102", 100: "12345678901", 128: "0102030405060708",
                             130: "TERTIARY"}}
    return [("1200", auth), ("1100", auth), ("1210", response), ("1420", reversal), ("1804", network),
            ("1110", wide)]


def frames():
    """(dialect index, name, bytes) for every seed frame."""
    out = []
    for index, dialect in enumerate(SHIPPED):
        spec = read_spec(dialect)
        for mti, values in variants93() if dialect == "iso93ascii" else variants87():
            out.append((index, f"{dialect}_{mti}_{len(values)}", encode(spec, mti, values)))
    return out


def check_conformance():
    for dialect, file in [("iso87ascii", "0200_default_ascii.bin"), ("iso87binary", "0200_default.bin"),
                          ("iso87bcd", "0200_bcd.bin")]:
        expected = open(os.path.join(ROOT, "conformance/frames", file), "rb").read()
        built = encode(read_spec(dialect), "0200", AUTH87)
        if built != expected:
            sys.exit(f"make-seeds: the {dialect} encoder disagrees with conformance/frames/{file}:\n"
                     f"{built.hex().upper()}\n{expected.hex().upper()}")


# MARK: Writing

def reset(target):
    path = os.path.join(CORPUS, target)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def write(target, name, data):
    with open(os.path.join(CORPUS, target, name), "wb") as file:
        file.write(data if isinstance(data, bytes) else data.encode())


def readme_issuer_yaml():
    text = open(os.path.join(ROOT, "README.md")).read()
    match = re.search(r"```yaml\n# issuer.yaml\n(.*?)```", text, re.S)
    return match.group(1) if match else None


def main():
    check_conformance()
    all_frames = frames()

    reset("iso8583")
    reset("iso8583map")
    for index, name, data in all_frames:
        write("iso8583", name, bytes([index]) + data)
        write("iso8583map", name, bytes([index]) + data)

    # Framing: byte 0 picks the format (see framing.swift), byte 1 the chunk sizes, then the stream.
    reset("framing")
    payloads = [data for _, _, data in all_frames[:4]] + [b""]
    formats = [("bin2", 0, lambda n: n.to_bytes(2, "big")), ("nac2", 1, None), ("ascii4", 2, lambda n: b"%04d" % n),
               ("bcd2", 3, lambda n: bytes.fromhex("%04d" % n)), ("hex4", 4, lambda n: b"%04X" % n),
               ("bin4", 5, lambda n: n.to_bytes(4, "big")), ("amex2", 6, lambda n: (n + 2).to_bytes(2, "big")),
               ("cs2", 7, lambda n: n.to_bytes(2, "big") + b"\0\0"), ("base24", 8, lambda n: (n + 1).to_bytes(2, "big")),
               ("bin3", 9, lambda n: n.to_bytes(3, "big"))]
    for name, index, prefix in formats:
        stream = b""
        for payload in payloads:
            if name == "nac2":
                stream += (len(payload) + 5).to_bytes(2, "big") + bytes.fromhex("6000010000") + payload
            elif name == "base24":
                stream += prefix(len(payload)) + payload + b"\x03"
            else:
                stream += prefix(len(payload)) + payload
        write("framing", f"{name}_whole", bytes([index, 0]) + stream)
        write("framing", f"{name}_drip", bytes([index, 0x10 | 3, 0, 6, 49]) + stream)
    etx = b"".join(payload.replace(b"\x03", b"") + b"\x03" for payload in payloads)
    write("framing", "etx_delimited", bytes([10, 0x20 | 2, 2, 99]) + etx)

    reset("iso20022")
    samples = os.path.join(ROOT, "Tests/ISO20022Tests/Samples")
    for file in sorted(os.listdir(samples)):
        shutil.copy(os.path.join(samples, file), os.path.join(CORPUS, "iso20022", file))

    # The largest amount a EUR amount can be (Int64 minor units): a boundary for the amount parsers.
    valid = open(os.path.join(samples, "pacs.008.001.08_valid.xml")).read()
    big = re.sub(r'(<IntrBkSttlmAmt Ccy="EUR">)[^<]*', r"\g<1>92233720368547758.07", valid)
    assert big != valid
    write("iso20022", "pacs.008.001.08_largest_amount.xml", big)

    # specs/routing's examples are seeds too, read in place by tools/fuzz.sh (not copied: their
    # cases hold test card numbers, which stay in test data).
    reset("rules")
    write("rules", "small.yaml", "channels: [a, b]\nrules:\n  - id: r1\n    when: {amount: {currency: EUR, gte: \"10.00\"}}\n"
                                 "    then: {split: {a: 1, b: 3}}\n  - id: r0\n    when: {amount: {currency: EUR, lt: \"92233720368547758.07\"}}\n    then: {route: b}\n  - id: r2\n    when: {any: [{bin: \"4\"}, {time: {from: \"22:00\", to: \"06:00\"}}]}\n"
                                 "    then: {decline: \"1061\"}\ndefault: {route: [b, a]}\n")

    reset("dialect")
    for dialect in SHIPPED:
        shutil.copy(os.path.join(ROOT, "specs/iso8583", dialect + ".yaml"), os.path.join(CORPUS, "dialect", dialect + ".yaml"))
    for mapping in ["iso87", "iso93"]:
        shutil.copy(os.path.join(ROOT, "specs/mappings", mapping + ".yaml"), os.path.join(CORPUS, "dialect", "mapping-" + mapping + ".yaml"))
    write("dialect", "composites.yaml", COMPOSITES)
    write("dialect", "packed-host.yaml", PACKED)

    reset("behaviour")
    issuer = readme_issuer_yaml()
    if issuer is None:
        sys.exit("make-seeds: no '# issuer.yaml' example in README.md")
    write("behaviour", "readme-issuer.yaml", issuer)
    write("behaviour", "all-conditions.yaml", BEHAVIOUR)

    # The sample frames the dialect target decodes: printed for pasting into dialect.swift.
    if "--print-samples" in sys.argv:
        composite = encode(read_spec(COMPOSITES, is_text=True), "0200", COMPOSITE_VALUES)
        for index, name, data in all_frames:
            if name.startswith(tuple(SHIPPED)) and "_0200_" in name or "_1200_" in name:
                print(name, data.hex().upper())
        print("composites", composite.hex().upper())
    print(f"seeds written to {CORPUS}")


COMPOSITES = """\
# A host dialect with every composite layout (seed for the dialect target).
dialect: composites
extends: iso87ascii
description: private TLV, bitmapped and positional composites
fields:
  - field: 48
    subfields:
      format: tlv
      tag-length: 2
      length-digits: 3
      tags: [{tag: CV, name: CVV2, sensitivity: cvv}, {tag: XY, name: Other}]
  - field: 62
    name: Private bitmapped
    class: ans
    length: LLL
    max: 999
    subfields:
      format: bitmapped
      bitmap: hex
      fields:
        - {field: 1, name: Indicator, class: an, length: 1}
        - {field: 2, name: Reference, class: n, length: LL, max: 10}
        - {field: 64, name: Last, class: ans, length: 3}
  - field: 63
    name: Private positional
    class: ans
    length: LLL
    max: 999
    subfields:
      format: positional
      fields:
        - {field: 1, name: Network, class: a, length: 3}
        - {field: 2, name: Code, class: n, length: 3}
        - {field: 3, name: Note, class: ans, length: LL, max: 20}
"""

COMPOSITE_VALUES = {**AUTH87, 48: "CV003123XY002AB", 62: "C000000000000000A0512345", 63: "VIS12305HELLO"}

PACKED = """\
dialect: packed-host
extends: iso87bcd
description: BCD host with binary prefixes and EBCDIC 1047 text
mti: bcd
bitmap: binary
prefix: binary
encoding: {an: ebcdic1047, ans: ebcdic1047, b: hex}
fields:
  - {field: 2, pad: left, pad-char: F, counts: nibbles}
  - {field: 35, encoding: bcd, pad: right, pad-char: F, counts: bytes}
  - {field: 43, encoding: ascii, prefix: ebcdic}
  - {field: 52, class: b, length: 8, encoding: binary}
  - {field: 97, class: xn, length: 17, encoding: ebcdic}
  - {fields: 129-131, name: Spare, class: ans, length: LLLL, max: 1200, prefix: bcd}
tertiary-bitmap: true
"""

BEHAVIOUR = """\
responses:
  - when: {amountOver: "1000.00", currency: EUR}
    result: Insufficient funds
  - when: {amountUnder: "0.01"}
    result: "1014"
  - when: {amountEquals: "12.5", message: "0100"}
    result: Do not honour
  - when: {panPrefix: "4000", currency: "978"}
    result: "1014"
  - when: {message: pacs.008.001.08}
    result: Approved
default: Approved
approvalCode: false
latency: {distribution: uniform, minMs: 1, maxMs: 5}
faults: {drop: 0.25, late: 0.25, close: 0.25, garbage: 0.125, stopReading: 0.125}
lateMs: 100
seed: 7
"""

if __name__ == "__main__":
    main()
