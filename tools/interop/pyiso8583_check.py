#!/usr/bin/env python3
"""Byte-compatibility check between payswitch's ISO 8583 codec and pyiso8583.

pyiso8583 (PyPI, MIT) is an independent ISO 8583 encoder/decoder. For each dialect below this
script generates seeded random messages and checks, message by message:

  A.decode    pyiso8583 encodes the message; `payswitch iso8583 decode --lines --unmask` must
              give back the generated MTI and field values.
  A.reencode  our decoded JSON, fed to `payswitch iso8583 encode --lines`, must give back
              pyiso8583's bytes exactly.
  B.encode    `payswitch iso8583 encode --lines` of the generated message must produce the same
              bytes as pyiso8583.
  B.decode    pyiso8583.decode of our bytes must give back the generated values.
  sample.*    reference frames in conformance/frames/ (three independent implementations agree
              on them) are decoded by both codecs and re-encoded by ours.

Dialects and the pyiso8583 spec each must match byte for byte:

  iso87ascii   iso8583.specs.default_ascii
  iso87binary  iso8583.specs.default
  iso87bcd     make_bcd_spec() below: jPOS's ISO87BPackager layout, written from jPOS's field
               packagers (it does not read payswitch's own dialect description); the fields
               pyiso8583 cannot express (28-31 and 97 as sign plus BCD, a one-byte DE 65) are left out.

All payswitch calls are batched: one decode and one encode call per direction and dialect.
The last line is `interop: N passed, M failed`; the exit status is 0 only if M == 0 and N > 0.

Usage:  tools/interop/run.sh [--seed S] [--count N] [--dialect NAME ...] [--show-hex]
        (run.sh creates the virtualenv with the pinned pyiso8583; the binary is taken from
        $PAYSWITCH_BIN, default <repo>/.build/debug/payswitch)
"""
import argparse
import copy
import json
import os
import random
import string
import subprocess
import sys
import time
from pathlib import Path

import iso8583
from iso8583.specs import default as SPEC_DEFAULT
from iso8583.specs import default_ascii as SPEC_ASCII

REPO = Path(__file__).resolve().parent.parent.parent
SAMPLES = REPO / "conformance" / "frames"
DEFAULT_BIN = REPO / ".build" / "debug" / "payswitch"

MTIS = ["0100", "0110", "0200", "0210", "0400", "0420", "0800", "0810"]
MAX_MESSAGE_BYTES = 4000
DETAIL_LINES = 10

# ---------------------------------------------------------------------------------------------
# ISO 8583:1987 data elements 2-64 and 66-128: (class, length, max).
# length: 0 fixed, 2 LL, 3 LLL (as pyiso8583's ASCII len_type). max: digits or characters;
# bytes for class b. Signed amounts (x+n) are written "xn" and their length includes the sign.
# Track data (35, 36) is class z. Field 65 (extended bitmap) is not a data element here.
# ---------------------------------------------------------------------------------------------
def _table():
    t = {}

    def put(fields, cls, length, mx):
        for f in fields:
            t[f] = (cls, length, mx)

    put([2], "n", 2, 19)
    put([3], "n", 0, 6)
    put([4, 5, 6], "n", 0, 12)
    put([7], "n", 0, 10)
    put([8, 9, 10], "n", 0, 8)
    put([11, 12], "n", 0, 6)
    put(range(13, 19), "n", 0, 4)
    put(range(19, 25), "n", 0, 3)
    put([25, 26], "n", 0, 2)
    put([27], "n", 0, 1)
    put(range(28, 32), "xn", 0, 9)
    put([32, 33], "n", 2, 11)
    put([34], "ans", 2, 28)
    put([35], "z", 2, 37)
    put([36], "z", 3, 104)
    put([37], "an", 0, 12)
    put([38], "an", 0, 6)
    put([39], "an", 0, 2)
    put([40], "an", 0, 3)
    put([41], "ans", 0, 8)
    put([42], "ans", 0, 15)
    put([43], "ans", 0, 40)
    put([44], "ans", 2, 25)
    put([45], "ans", 2, 76)
    put([46, 47, 48], "ans", 3, 999)
    put([49, 50, 51], "an", 0, 3)
    put([52], "b", 0, 8)
    put([53], "n", 0, 16)
    put([54], "ans", 3, 240)   # 1987 says ..120; pyiso8583 and payswitch both allow 240
    put([55], "b", 3, 255)     # ICC data (BER-TLV), bytes
    put(range(56, 64), "ans", 3, 999)
    put([64], "b", 0, 8)
    put([66], "n", 0, 1)
    put([67], "n", 0, 2)
    put([68, 69, 70], "n", 0, 3)
    put([71, 72], "n", 0, 4)
    put([73], "n", 0, 6)
    put(range(74, 82), "n", 0, 10)
    put(range(82, 86), "n", 0, 12)
    put(range(86, 90), "n", 0, 16)
    put([90], "n", 0, 42)      # original data elements: n4 n6 n10 n11 n11
    put([91], "an", 0, 1)
    put([92], "an", 0, 2)
    put([93], "an", 0, 5)
    put([94], "an", 0, 7)
    put([95], "an", 0, 42)
    put([96], "b", 0, 8)
    put([97], "xn", 0, 17)
    put([98], "ans", 0, 25)
    put([99, 100], "n", 2, 11)
    put([101], "ans", 2, 17)
    put([102, 103], "ans", 2, 28)
    put([104], "ans", 3, 100)
    put(range(105, 128), "ans", 3, 999)
    put([128], "b", 0, 8)
    return t


FIELDS = _table()
PRIMARY = [f for f in range(2, 65)]
SECONDARY = [f for f in range(66, 129)]
assert sorted(FIELDS) == PRIMARY + SECONDARY


def _check_table_against_pyiso():
    """The class table must agree with pyiso8583's own 1987 layout on lengths."""
    for f, (cls, length, mx) in FIELDS.items():
        s = SPEC_DEFAULT[str(f)]
        if s["len_type"] != length or s["max_len"] != mx:
            raise SystemExit(f"internal: field {f} table {length}/{mx} vs pyiso8583 "
                             f"{s['len_type']}/{s['max_len']}")
        if (cls == "b") != (s["data_enc"] == "b"):
            raise SystemExit(f"internal: field {f} class {cls} vs pyiso8583 {s['data_enc']}")


# ---------------------------------------------------------------------------------------------
# pyiso8583 spec for packed BCD: jPOS's ISO87BPackager layout, which our iso87bcd dialect
# follows, written here from jPOS's field packagers (not from our dialect file): every n field
# packed BCD, fixed ones (IFB_NUMERIC) left-padded with a 0 nibble for an odd digit count, the
# LL ones (IFB_LLNUM: 2, 32, 33, 35, 99, 100; '=' of track 2 as nibble D) right-padded with 0;
# LL/LLL prefixes as BCD (1 / 2 bytes) counting digits, characters or bytes. Text stays ASCII,
# track 3 (36) included (IFB_LLLCHAR); binary stays raw; 55 raw bytes up to 999 with a 2-byte
# BCD length; 54 at most 120; 93 six characters; 96 sixteen bytes. MTI 2 bytes BCD; binary
# bitmaps. pyiso8583 cannot write jPOS's IFB_AMOUNT (an ASCII sign, then BCD digits: 28-31, 97)
# nor a one-byte DE 65 (it reads 8), so those fields are left out of the iso87bcd messages and
# fuzz frames (tests in Swift cover them).
# ---------------------------------------------------------------------------------------------
BCD_LEFT_OUT = {28, 29, 30, 31, 97}
BCD_SIZES = {54: 120, 55: 999, 93: 6, 96: 16}   # where ISO87BPackager departs from the 1987 table
def make_bcd_spec():
    s = copy.deepcopy(SPEC_DEFAULT)
    s["t"] = {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": 2,
              "desc": "Message Type (BCD)"}
    for f, (cls, length, mx) in FIELDS.items():
        key = str(f)
        desc = s[key]["desc"]
        if cls in ("n", "z"):
            spec = {"data_enc": "b", "len_count": "nibbles", "max_len": mx, "desc": desc}
            if length == 0:
                spec.update({"len_enc": "b", "len_type": 0})
            else:
                spec.update({"len_enc": "bcd", "len_type": length - 1})
            if f in (2, 32, 33, 35, 99, 100):   # IFB_LLNUM, pad false
                spec["right_pad"] = "0"
            else:                                # IFB_NUMERIC, pad true
                spec["left_pad"] = "0"
            if f == 36:     # IFB_LLLCHAR: ASCII
                spec = {"data_enc": "ascii", "len_enc": "bcd", "len_type": 2, "max_len": mx, "desc": desc}
            s[key] = spec
        elif cls == "b":
            if length == 0:
                s[key] = {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": mx,
                          "desc": desc}
            else:
                s[key] = {"data_enc": "b", "len_enc": "bcd", "len_type": length - 1,
                          "max_len": mx, "desc": desc}
        else:  # a, an, ans, xn: ASCII data
            if length == 0:
                s[key] = {"data_enc": "ascii", "len_enc": "ascii", "len_type": 0,
                          "max_len": mx, "desc": desc}
            else:
                s[key] = {"data_enc": "ascii", "len_enc": "bcd", "len_type": length - 1,
                          "max_len": mx, "desc": desc}
    for f, mx in BCD_SIZES.items():
        s[str(f)]["max_len"] = mx
    return s


def adapt(msg, dialect):
    """A generated message made to fit the dialect where its layout departs from the 1987 table."""
    if dialect != "iso87bcd":
        return msg
    fields = {}
    for k, v in msg["fields"].items():
        f = int(k)
        if f in BCD_LEFT_OUT:
            continue
        if f in (93, 96):
            # Fixed sizes of 6 characters and 16 bytes: padded as jPOS's IF_CHAR, or lengthened.
            v = v.ljust(6) if f == 93 else (v * 2)
        if f == 54:
            v = v[:120]
        fields[k] = v
    return {"mti": msg["mti"], "fields": fields}


# name -> (pyiso8583 spec, reference frame in conformance/frames/)
DIALECTS = {
    "iso87ascii": (SPEC_ASCII, "0200_default_ascii.bin"),
    "iso87binary": (SPEC_DEFAULT, "0200_default.bin"),
    "iso87bcd": (make_bcd_spec(), "0200_bcd.bin"),
}
Z_FIELDS = {35}   # packed track 2 in iso87bcd: "=" is the nibble D (track 3 is ASCII there)

# ---------------------------------------------------------------------------------------------
# random values
# ---------------------------------------------------------------------------------------------
DIGITS = string.digits
LETTERS = string.ascii_letters
AN = string.ascii_letters + string.digits + " "
ANS = "".join(chr(c) for c in range(0x20, 0x7F))

# EMV tags: (tag, fixed length or (min, max))
EMV_TAGS = [
    ("9F26", 8), ("9F27", 1), ("9F10", (1, 32)), ("9F37", 4), ("9F36", 2), ("95", 5),
    ("9A", 3), ("9C", 1), ("9F02", 6), ("9F03", 6), ("5F2A", 2), ("82", 2), ("9F1A", 2),
    ("9F33", 3), ("9F34", 3), ("9F35", 1), ("9F1E", 8), ("84", (5, 16)), ("9F09", 2),
    ("9F41", (2, 4)), ("5F34", 1), ("4F", (5, 16)), ("91", (8, 16)), ("8A", 2),
]


def tlv(tag, value):
    n = len(value)
    if n < 0x80:
        ln = bytes([n])
    elif n < 0x100:
        ln = bytes([0x81, n])
    else:
        ln = bytes([0x82, n >> 8, n & 0xFF])
    return bytes.fromhex(tag) + ln + value


def gen_icc(rng, max_bytes):
    items = []
    r = rng.random()
    if r < 0.10 and max_bytes >= 140:
        # a private primitive tag with a long-form (81 xx) length
        items.append(tlv("DF01", rng.randbytes(rng.randint(128, min(200, max_bytes - 4)))))
    elif r < 0.18 and max_bytes >= 20:
        # constructed template (issuer script 71) holding primitive TLVs
        inner = tlv("9F18", rng.randbytes(4)) + tlv("86", rng.randbytes(rng.randint(1, 5)))
        items.append(tlv("71", inner))
    used = sum(map(len, items))
    tags = EMV_TAGS[:]
    rng.shuffle(tags)
    for tag, ln in tags[:rng.randint(0, len(tags))]:
        n = ln if isinstance(ln, int) else rng.randint(*ln)
        item = tlv(tag, rng.randbytes(n))
        if used + len(item) > max_bytes:
            break
        items.append(item)
        used += len(item)
    rng.shuffle(items)
    return b"".join(items)


def text_len(rng, length, mx):
    if length == 0:
        return mx
    r = rng.random()
    if r < 0.08:
        return 0
    if r < 0.14:
        return mx
    if mx <= 99:
        return rng.randint(0, mx)
    if r < 0.17:
        return rng.randint(0, mx)    # now and then a long one
    return rng.randint(0, min(mx, 60))


def gen_value(rng, f, small=False):
    cls, length, mx = FIELDS[f]
    if f == 55:
        return gen_icc(rng, rng.choice([mx, mx, 64, 32]) if not small else 24).hex().upper()
    if cls == "b":
        n = text_len(rng, length, mx)
        return rng.randbytes(n).hex().upper()
    n = text_len(rng, length, min(mx, 12) if small and length else mx)
    if cls == "n":
        return "".join(rng.choice(DIGITS) for _ in range(n))
    if cls == "xn":
        return rng.choice("CD") + "".join(rng.choice(DIGITS) for _ in range(n - 1))
    if cls == "z":
        digits = [rng.choice(DIGITS) for _ in range(n)]
        if n:
            if f == 35:
                # PAN '=' expiry/service code/discretionary data
                pos = rng.randint(min(n - 1, 12), n - 1) if n > 1 else 0
                digits[pos] = "="
            else:
                for _ in range(rng.randint(0, 3)):
                    digits[rng.randrange(n)] = "="
        return "".join(digits)
    alphabet = {"a": LETTERS, "an": AN, "ans": ANS}[cls]
    return "".join(rng.choice(alphabet) for _ in range(n))


def gen_message(rng):
    r = rng.random()
    if r < 0.03:
        fields = PRIMARY + SECONDARY    # every field, short variable values
        small = True
    else:
        small = False
        fields = []
        if r < 0.53:
            fields = rng.sample(SECONDARY, rng.randint(1, 20))
        # with secondary fields present, now and then no primary data element at all
        fields += rng.sample(PRIMARY, rng.randint(0 if fields and r < 0.08 else 1, 25))
    return {"mti": rng.choice(MTIS),
            "fields": {str(f): gen_value(rng, f, small) for f in sorted(fields)}}


def edge_messages(rng):
    """Fixed shapes the random generator rarely or never hits."""
    var = [f for f, (_, length, _) in FIELDS.items() if length]
    at_max = {}
    for f in var:
        cls, length, mx = FIELDS[f]
        if f == 55:      # ICC data at exactly 255 bytes: one long-form TLV (2 + 2 + 251)
            at_max["55"] = tlv("DF01", rng.randbytes(251)).hex().upper()
        elif mx <= 255:
            v = gen_value(rng, f)
            while len(v) != mx:
                v = gen_value(rng, f)
            at_max[str(f)] = v
    big = {"46": "".join(rng.choice(ANS) for _ in range(999)),
           "127": "".join(rng.choice(ANS) for _ in range(999))}
    return [
        {"mti": "0800", "fields": {"70": "301"}},                  # only a secondary field
        {"mti": "0810", "fields": {"39": "00", "70": "001"}},
        {"mti": "0200", "fields": {str(f): "" for f in var}},       # every variable field empty
        {"mti": "0200", "fields": at_max},                          # variable fields at max
        {"mti": "0100", "fields": big},                             # 999-character LLL fields
        {"mti": "0100", "fields": {"2": "4", "35": "=", "36": "="}},
        {"mti": "0100", "fields": {"2": "0", "32": "0", "35": "0=", "36": "=0"}},
        {"mti": "0200", "fields": {"2": "4111111111111111111", "35": "=" + "9" * 36,
                                   "43": " " * 40, "37": "   ABC      ", "128": "00" * 8}},
    ]


# ---------------------------------------------------------------------------------------------
# logical message <-> pyiso8583 dict
# ---------------------------------------------------------------------------------------------
def to_pyiso(msg, dialect):
    d = {"t": msg["mti"]}
    for k, v in msg["fields"].items():
        if dialect == "iso87bcd" and int(k) in Z_FIELDS:
            v = v.replace("=", "D")
        d[k] = v
    return d


def from_pyiso(d, dialect):
    fields = {}
    for k, v in d.items():
        if not k.isdigit() or k in ("1", "65"):
            continue
        if dialect == "iso87bcd" and int(k) in Z_FIELDS:
            v = v.replace("D", "=")
        fields[k] = v
    return {"mti": d.get("t"), "fields": fields}


def py_encode(msg, dialect):
    raw, _ = iso8583.encode(to_pyiso(msg, dialect), DIALECTS[dialect][0])
    return bytes(raw)


def py_decode(raw, dialect):
    d, _ = iso8583.decode(bytearray(raw), DIALECTS[dialect][0])
    return from_pyiso(d, dialect)


# ---------------------------------------------------------------------------------------------
# payswitch
# ---------------------------------------------------------------------------------------------
class ToolError(Exception):
    pass


def run_payswitch(binary, args, lines):
    data = "".join(line + "\n" for line in lines)
    p = subprocess.run([binary, "iso8583", *args], input=data, capture_output=True, text=True)
    out = p.stdout.splitlines()
    if len(out) != len(lines):
        raise ToolError(f"`payswitch iso8583 {' '.join(args)}`: {len(lines)} lines in, "
                        f"{len(out)} out, exit {p.returncode}: {p.stderr.strip()[:300]}")
    if p.returncode not in (0, 1):
        raise ToolError(f"`payswitch iso8583 {' '.join(args)}` exit {p.returncode}: "
                        f"{p.stderr.strip()[:300]}")
    return out


def our_decode(binary, dialect, hex_lines):
    res = []
    for line in run_payswitch(binary, ["decode", "--spec", dialect, "--lines", "--unmask"],
                              hex_lines):
        try:
            j = json.loads(line)
        except ValueError:
            res.append(("error", f"not JSON: {line[:120]}"))
            continue
        if "error" in j:
            res.append(("error", j["error"]))
        else:
            res.append(("ok", {"mti": j.get("mti"), "fields": j.get("fields", {})}))
    return res


def our_encode(binary, dialect, msgs):
    lines = [json.dumps(m, separators=(",", ":")) for m in msgs]
    res = []
    for line in run_payswitch(binary, ["encode", "--spec", dialect, "--lines"], lines):
        line = line.strip()
        if line.startswith("error"):
            res.append(("error", line))
        else:
            try:
                res.append(("ok", bytes.fromhex(line)))
            except ValueError:
                res.append(("error", f"not hex: {line[:120]}"))
    return res


# ---------------------------------------------------------------------------------------------
# comparison and reporting
# ---------------------------------------------------------------------------------------------
def short(v, n=100):
    if v is None:
        return "<absent>"
    v = repr(v) if isinstance(v, str) else str(v)
    return v if len(v) <= n else v[: n - 12] + "..." + v[-9:] + f" ({len(v) - 2} chars)"


def diff_messages(want, got):
    """First difference as (field, expected, got), or None."""
    if want["mti"] != got["mti"]:
        return ("mti", want["mti"], got["mti"])
    wf, gf = want["fields"], got["fields"]
    for k in sorted(set(wf) | set(gf), key=int):
        if wf.get(k) != gf.get(k) and not same_hex(wf.get(k), gf.get(k)):
            return (k, wf.get(k), gf.get(k))
    return None


def same_hex(want, got):
    """A binary field written as hex digits in an ASCII dialect: pyiso8583 keeps the digits as they
    came (lowercase included), we give the bytes they stand for in uppercase hex; same bytes."""
    hexdigits = set("0123456789abcdefABCDEF")
    return (isinstance(want, str) and isinstance(got, str) and want.upper() == got
            and set(want) <= hexdigits)


def diff_bytes(want, got):
    for i, (a, b) in enumerate(zip(want, got)):
        if a != b:
            break
    else:
        i = min(len(want), len(got))
    lo = max(0, i - 8)
    return ("bytes", f"@{i} of {len(want)}: ...{want[lo:i + 16].hex().upper()}",
            f"@{i} of {len(got)}: ...{got[lo:i + 16].hex().upper()}")


class Tally:
    def __init__(self, show_hex):
        self.passed = 0
        self.failed = 0
        self.kinds = {}          # (dialect, check, field) -> count
        self.details = []
        self.show_hex = show_hex
        self.per_dialect = {}

    def ok(self, dialect):
        self.passed += 1
        p, f = self.per_dialect.get(dialect, (0, 0))
        self.per_dialect[dialect] = (p + 1, f)

    def fail(self, dialect, check, idx, field, expected, got, raw=None):
        self.failed += 1
        p, f = self.per_dialect.get(dialect, (0, 0))
        self.per_dialect[dialect] = (p, f + 1)
        kind = (dialect, check, field)
        first = kind not in self.kinds
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if first and len(self.details) < DETAIL_LINES:
            line = (f"MISMATCH {dialect} {check} msg {idx} field {field}: "
                    f"expected {short(expected)} got {short(got)}")
            if self.show_hex and raw is not None:
                line += f"\n    message hex: {raw.hex().upper()}"
            self.details.append(line)
            print(line, flush=True)


def check_dialect(binary, dialect, count, seed, tally):
    t0 = time.perf_counter()
    spec, sample_name = DIALECTS[dialect]
    rng = random.Random(f"{seed}:{dialect}")

    msgs, raws = [], []
    edges = edge_messages(rng)
    while len(msgs) < count + len(edges):
        m = adapt(edges[len(msgs)] if len(msgs) < len(edges) else gen_message(rng), dialect)
        while True:
            try:
                raw = py_encode(m, dialect)
            except iso8583.EncodeError as e:   # a generator bug, not a codec finding
                raise SystemExit(f"internal: pyiso8583 refused a generated message: {e}\n{m}")
            if len(raw) <= MAX_MESSAGE_BYTES:
                break
            big = max(m["fields"], key=lambda k: len(m["fields"][k]))
            del m["fields"][big]
        msgs.append(m)
        raws.append(raw)

    sample_raw = (SAMPLES / sample_name).read_bytes()
    sample_py = py_decode(sample_raw, dialect)

    # Direction A: pyiso8583 bytes -> our decoder -> our encoder
    dec = our_decode(binary, dialect, [r.hex().upper() for r in raws + [sample_raw]])
    reenc_idx, reenc_msgs = [], []
    for i, (status, got) in enumerate(dec):
        is_sample = i == len(raws)
        want = sample_py if is_sample else msgs[i]
        raw = sample_raw if is_sample else raws[i]
        check = "sample.decode" if is_sample else "A.decode"
        if status == "error":
            tally.fail(dialect, check, i, "-", "decoded message", f"error: {got}", raw)
            continue
        d = diff_messages(want, got)
        if d:
            tally.fail(dialect, check, i, d[0], d[1], d[2], raw)
        else:
            tally.ok(dialect)
        reenc_idx.append(i)
        reenc_msgs.append(got)
    for i, (status, got) in zip(reenc_idx, our_encode(binary, dialect, reenc_msgs)):
        is_sample = i == len(raws)
        want = sample_raw if is_sample else raws[i]
        check = "sample.reencode" if is_sample else "A.reencode"
        if status == "error":
            tally.fail(dialect, check, i, "-", "bytes", got, want)
        elif got != want:
            tally.fail(dialect, check, i, *diff_bytes(want, got), want)
        else:
            tally.ok(dialect)

    # Direction B: generated message -> our encoder -> pyiso8583 decoder
    for i, (status, got) in enumerate(our_encode(binary, dialect, msgs)):
        if status == "error":
            tally.fail(dialect, "B.encode", i, "-", "bytes", got, raws[i])
            continue
        if got != raws[i]:
            tally.fail(dialect, "B.encode", i, *diff_bytes(raws[i], got), raws[i])
        else:
            tally.ok(dialect)
        try:
            back = py_decode(got, dialect)
        except (iso8583.DecodeError, ValueError) as e:
            tally.fail(dialect, "B.decode", i, "-", "decodable bytes", f"pyiso8583: {e}", got)
            continue
        d = diff_messages(msgs[i], back)
        if d:
            tally.fail(dialect, "B.decode", i, d[0], d[1], d[2], got)
        else:
            tally.ok(dialect)
    return time.perf_counter() - t0


# The fuzz target iso8583 picks its dialect by input byte 0 modulo the shipped dialects, in
# Dialect.shippedNames order (Sources/ISO8583/Dialect+Shipped.swift).
FUZZ_DIALECTS = ["iso87ascii", "iso87binary", "iso87bcd", "iso87ebcdic", "iso93ascii"]


def check_corpus(binary, directory, tally):
    """Differential over a fuzz corpus: every frame our decoder accepts, in a dialect pyiso8583
    can express, pyiso8583 must decode to the same MTI and values. Frames only pyiso8583 accepts
    are counted (we are stricter in places: trailing bytes …) but are not failures."""
    frames = {}
    for path in sorted(Path(directory).iterdir()):
        data = path.read_bytes()
        if len(data) < 2:
            continue
        dialect = FUZZ_DIALECTS[data[0] % len(FUZZ_DIALECTS)]
        if dialect in DIALECTS:
            frames.setdefault(dialect, []).append((path.name, data[1:]))
    for dialect, entries in sorted(frames.items()):
        ours = our_decode(binary, dialect, [frame.hex() for _, frame in entries])
        accepted = only_theirs = beyond = 0
        for (name, frame), (status, got) in zip(entries, ours):
            try:
                theirs = py_decode(frame, dialect)
            except Exception as error:  # pyiso8583 refuses: ours must refuse too
                theirs = None
                their_error = error
            if status != "ok":
                if theirs is not None:
                    only_theirs += 1
                continue
            if any(int(k) > 128 for k in got["fields"]):
                beyond += 1  # a tertiary bitmap: pyiso8583 reads bit 65 as a field, not a bitmap
                continue
            if dialect == "iso87bcd" and any(int(k) in BCD_LEFT_OUT or k == "65" for k in got["fields"]):
                beyond += 1  # jPOS's IFB_AMOUNT (sign, then BCD) and one-byte DE 65: pyiso8583 has neither
                continue
            accepted += 1
            if theirs is None:
                tally.fail(dialect, "corpus.theirs", name, "-", "pyiso8583 decodes it", f"refused: {their_error}", frame)
                continue
            problem = diff_messages(theirs, got)
            if problem:
                tally.fail(dialect, "corpus.values", name, problem[0], problem[1], problem[2], frame)
            else:
                tally.ok(dialect)
        print(f"  corpus {dialect:<12} {len(entries)} frames, {accepted} accepted by us and compared, "
              f"{only_theirs} accepted only by pyiso8583, {beyond} with fields pyiso8583 cannot express "
              f"(past 128; in iso87bcd jPOS's signed amounts and one-byte DE 65)", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", default="8583", help="random seed (default 8583)")
    ap.add_argument("--count", type=int, default=2000, help="messages per dialect (default 2000)")
    ap.add_argument("--dialect", action="append", choices=list(DIALECTS),
                    help="check only this dialect (repeatable; default all)")
    ap.add_argument("--show-hex", action="store_true",
                    help="print the whole message hex with each mismatch")
    ap.add_argument("--corpus", metavar="DIR",
                    help="instead: the differential over a fuzz corpus of the iso8583 target (Fuzz/)")
    a = ap.parse_args()

    binary = os.environ.get("PAYSWITCH_BIN") or str(DEFAULT_BIN)
    if not os.access(binary, os.X_OK):
        print(f"interop: payswitch binary not found at {binary} "
              f"(build it with `swift build --product payswitch` or set PAYSWITCH_BIN)",
              file=sys.stderr)
        return 2
    _check_table_against_pyiso()
    print(f"pyiso8583 {iso8583.__version__}, payswitch {binary}, seed {a.seed}, "
          f"{a.count} messages per dialect", flush=True)

    tally = Tally(a.show_hex)
    if a.corpus:
        check_corpus(binary, a.corpus, tally)
        print(f"interop: {tally.passed} passed, {tally.failed} failed")
        return 0 if tally.failed == 0 and tally.passed > 0 else 1
    for dialect in a.dialect or list(DIALECTS):
        try:
            secs = check_dialect(binary, dialect, a.count, a.seed, tally)
        except ToolError as e:
            print(f"ERROR {dialect}: {e}", flush=True)
            tally.failed += 1
            tally.per_dialect[dialect] = (tally.per_dialect.get(dialect, (0, 0))[0],
                                          tally.per_dialect.get(dialect, (0, 0))[1] + 1)
            continue
        p, f = tally.per_dialect.get(dialect, (0, 0))
        print(f"  {dialect:<12} checks ok {p}, failing {f}  ({secs:.1f}s)", flush=True)
    if tally.kinds:
        shown = len(tally.details)
        print(f"failure kinds (dialect check field: count), {shown} shown in detail above:")
        kinds = sorted(tally.kinds.items())
        for (dialect, check, field), n in kinds[:DETAIL_LINES]:
            print(f"  {dialect} {check} {field}: {n}")
        if len(kinds) > DETAIL_LINES:
            print(f"  ... and {len(kinds) - DETAIL_LINES} more")
    print(f"interop: {tally.passed} passed, {tally.failed} failed")
    return 0 if tally.failed == 0 and tally.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
