#!/usr/bin/env python3
"""Writes random ISO 20022 documents that are valid against the official XSDs in specs/iso20022.

The generator walks each (self-contained) XSD with ElementTree from the top-level `Document`
element: sequences and choices (nested, with occurrence bounds on the groups too), simple content
with attributes (`Ccy` on amounts), simple types with their facets, and `xs:any` (written as an
element in a foreign namespace). Optional elements appear with a probability that falls with depth;
repeatable ones occur 1-3 times, and the message's transaction block (CdtTrfTxInf, TxInf, PmtInf,
...) always occurs 1-3 times, at least twice in every third document. Each document has its own
random.Random(f"{seed}:{message}:{index}"), so a rerun with the same seed gives the same bytes.

The documents are schema-valid, not business-rule-clean: NbOfTxs and CtrlSum are random numbers,
and CreDtTm is not always in UTC.

  tools/iso20022/random_documents.py --seed 1 --count 12 --out Tests/ISO20022Tests/Samples/generated --validate
  tools/iso20022/random_documents.py --messages pacs.008.001.08,pain.001.001.09 --out /tmp/docs

--validate runs `xmllint --noout --schema specs/iso20022/<message>.xsd FILES...` once per message
and exits 1 when any document is invalid.
"""
import argparse
import datetime
import base64
import random
import re
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

ROOT = Path(__file__).resolve().parents[2]
XS = "{http://www.w3.org/2001/XMLSchema}"
MESSAGES = ["pacs.008.001.08", "pacs.008.001.13", "pacs.009.001.12", "pacs.002.001.10", "pacs.004.001.09", "pacs.028.001.03",
            "camt.056.001.08", "camt.029.001.09", "pain.001.001.09", "pain.002.001.10", "head.001.001.02"]
# Transaction blocks, as paths below the message element: the first is the one counted as the
# document's transactions (its ancestors occur exactly once); the others just always occur 1-3 times.
BLOCKS = {
    "pacs.008.001.08": ["CdtTrfTxInf"],
    "pacs.008.001.13": ["CdtTrfTxInf"],
    "pacs.009.001.12": ["CdtTrfTxInf"],
    "pacs.002.001.10": ["TxInfAndSts", "OrgnlGrpInfAndSts"],
    "pacs.004.001.09": ["TxInf"],
    "pacs.028.001.03": ["TxInf"],
    "camt.056.001.08": ["Undrlyg/TxInf"],
    "camt.029.001.09": ["CxlDtls/TxInfAndSts"],
    "pain.001.001.09": ["PmtInf"],
    "pain.002.001.10": ["OrgnlPmtInfAndSts/TxInfAndSts"],
}
KNOWN_FACETS = {"enumeration", "pattern", "minLength", "maxLength", "totalDigits", "fractionDigits", "minInclusive"}
MAX_DEPTH = 20      # no optional element below this depth (Document is depth 0): stops recursive types
HARD_DEPTH = 24     # required content this deep is an error
SIZE_BUDGET = 26_000  # characters written; past it only required elements are added

CURRENCIES = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "SEK": 2, "JPY": 0, "BHD": 3}
COUNTRIES = ["DE", "FR", "GB", "NL", "BE", "ES", "IT", "US"]
BICS = ["DEUTDEFF", "COBADEFF", "BNPAFRPP", "SOGEFRPP", "BARCGB22", "HBUKGB4B", "INGBNL2A",
        "RABONL2U", "KREDBEBB", "BBVAESMM", "UNCRITMM", "CHASUS33"]
IBAN_BBANS = {"DE": "n18", "FR": "n23", "GB": "NWBKn14", "NL": "INGBn10", "BE": "n12", "ES": "n20"}
CODES = {  # realistic values for some external (non-enumerated) code lists
    "ExternalPaymentTransactionStatus1Code": ["ACSC", "ACCP", "ACSP", "PDNG", "RJCT"],
    "ExternalPaymentGroupStatus1Code": ["ACCP", "ACTC", "PART", "RJCT"],
    "ExternalStatusReason1Code": ["AC01", "AC04", "AM04", "AM05", "FF01", "MS03"],
    "ExternalReturnReason1Code": ["AC01", "AC04", "AG01", "MD07", "MS02"],
    "ExternalCancellationReason1Code": ["DUPL", "FRAD", "TECH", "CUST"],
    "ExternalPurpose1Code": ["SALA", "SUPP", "GDDS", "RENT", "TAXS"],
    "ExternalCategoryPurpose1Code": ["SALA", "SUPP", "CASH", "TRAD"],
    "ExternalServiceLevel1Code": ["SEPA", "URGP", "NURG", "SDVA"],
    "ExternalLocalInstrument1Code": ["INST", "CORE", "B2B"],
    "ExternalCashClearingSystem1Code": ["TGT", "EBA", "CHP"],
}
WORDS = ["Alpha", "Nordic", "Trading", "Invoice", "Order", "Rent", "Salary", "Main", "Street", "Bank",
         "Service", "Consulting", "Logistics", "Payment", "Berlin", "Paris", "London", "Amsterdam", "Ltd",
         "GmbH", "SA", "BV", "North", "Road", "12", "2026", "Q4", "Ref", "Account", "Holding"]
SPECIAL_WORDS = ["&", "Smith & Sons", "<urgent>", "a > b", '"quoted"', "O'Brien", "Café", "Müller", "Zoë", "Straße"]


class Schema:
    """The named types of one XSD, with the facets of its simple types."""

    def __init__(self, xsd: Path):
        root = ET.parse(xsd).getroot()
        self.namespace = root.get("targetNamespace")
        self.complex = {t.get("name"): t for t in root if t.tag == XS + "complexType"}
        self.simple = {t.get("name"): t for t in root if t.tag == XS + "simpleType"}
        # The top-level element: Document, or AppHdr for the business application header.
        self.document = next(e for e in root if e.tag == XS + "element")

    def facets(self, type_name: str) -> dict:
        """The built-in base (`xs:...`) and facets of a simple type, following named bases."""
        if type_name.startswith("xs:"):
            return {"base": type_name, "enumeration": []}
        restriction = self.simple[type_name].find(XS + "restriction")
        if restriction is None:
            sys.exit(f"{type_name}: only xs:restriction simple types are supported")
        facets = self.facets(restriction.get("base"))
        facets["enumeration"] = []
        for facet in restriction:
            kind = facet.tag[len(XS):]
            if kind not in KNOWN_FACETS:
                sys.exit(f"{type_name}: unsupported facet xs:{kind}")
            if kind == "enumeration":
                facets["enumeration"].append(facet.get("value"))
            else:
                facets[kind] = facet.get("value")
        facets["name"] = type_name
        return facets


def occurs(node, attribute: str, default: int = 1) -> float:
    """minOccurs/maxOccurs of a particle as a number ('unbounded' is infinity)."""
    value = node.get(attribute, str(default))
    return float("inf") if value == "unbounded" else int(value)


def mod97_check(body: str) -> str:
    """The two ISO 7064 mod 97-10 check digits (IBAN, LEI) for `body` with '00' appended."""
    number = int("".join(str(int(c, 36)) for c in body + "00"))
    return f"{98 - number % 97:02d}"


def iban(rng: random.Random) -> str:
    """A well-formed IBAN of a listed country, with correct check digits."""
    country = rng.choice(sorted(IBAN_BBANS))
    fmt = IBAN_BBANS[country]
    letters, digits = fmt.split("n")
    bban = letters + "".join(rng.choice("0123456789") for _ in range(int(digits)))
    return country + mod97_check(bban + country) + bban


def lei(rng: random.Random) -> str:
    """A 20-character LEI (4 characters issuer, '00', 12 characters entity, 2 check digits)."""
    alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    body = "".join(rng.choice(alnum) for _ in range(4)) + "00" + "".join(rng.choice(alnum) for _ in range(12))
    return body + mod97_check(body)


def phone(rng: random.Random) -> str:
    """A phone number of the ISO 20022 form +CC-NUMBER."""
    number = "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 10)))
    rest = rng.choice([number, "(0)" + number, number[:3] + "-" + number[3:]])
    return f"+{rng.choice(['49', '33', '44', '31', '32', '1'])}-{rest}"


PATTERNS = {
    "[A-Z0-9]{4,4}[A-Z]{2,2}[A-Z0-9]{2,2}([A-Z0-9]{3,3}){0,1}":
        lambda rng: rng.choice(BICS) + rng.choice(["", "", "XXX", f"{rng.randint(100, 999)}"]),
    "[A-Z]{3,3}": lambda rng: rng.choice(sorted(CURRENCIES)),
    r"\+[0-9]{1,3}-[0-9()+\-]{1,30}": phone,
    "[a-zA-Z0-9]{4}": lambda rng: "".join(rng.choice("abcdefABCDEFXYZ0123456789") for _ in range(4)),
    "[A-Z]{2,2}": lambda rng: rng.choice(COUNTRIES),
    "[A-Z0-9]{18,18}[0-9]{2,2}": lei,
    "[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}":
        lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "[A-Z]{2,2}[0-9]{2,2}[a-zA-Z0-9]{1,30}": iban,
    "[0-9]{1,15}": lambda rng: str(rng.choice([1, 2, 3, rng.randint(1, 999), rng.randint(1, 999_999)])),
    "[0-9]{2}": lambda rng: f"{rng.randint(0, 99):02d}",
    "([0-9A-F][0-9A-F]){32}": lambda rng: f"{rng.getrandbits(256):064X}",
    "[0-9a-fA-F]+": lambda rng: f"{rng.getrandbits(8 * rng.randint(1, 16)):x}",
}


def text(rng: random.Random, low: int, high: int) -> str:
    """Free text of low..high characters: words, sometimes with markup characters or accents."""
    cap = high if high <= 140 and rng.random() < 0.05 else min(high, rng.choice([12, 20, 35, 35, 70]))
    length = rng.randint(low, max(low, cap))
    words = []
    while len(" ".join(words)) < length:
        words.append(rng.choice(SPECIAL_WORDS) if rng.random() < 0.12 else rng.choice(WORDS))
    value = " ".join(words)[:length].strip()
    return value + "x" * (low - len(value))


def decimal(rng: random.Random, facets: dict, exponent: int | None) -> str:
    """A non-negative decimal within totalDigits/fractionDigits (and a currency's exponent)."""
    if float(facets.get("minInclusive", "0")) > 0:
        sys.exit(f"{facets.get('name')}: minInclusive above 0 is not supported")
    total = int(facets.get("totalDigits", 18))
    fraction = min(int(facets.get("fractionDigits", 6)), 6 if exponent is None else exponent)
    integer_digits = rng.choice([1, 1, 2, 3, 3, 4, 5, 6, 7])
    fraction = min(fraction, total - 1)
    integer_digits = min(integer_digits, total - fraction)
    integer = str(rng.randint(0 if integer_digits == 1 else 10 ** (integer_digits - 1), 10 ** integer_digits - 1))
    digits = "".join(rng.choice("0123456789") for _ in range(fraction))
    roll = rng.random()
    if roll < 0.25:
        digits = "0" * fraction                        # a round amount: 100 or 100.00
    elif roll < 0.45:
        digits = digits[:1] + "0" * (fraction - 1)   # 100.5 or 100.50
    if integer == "0" and not digits.strip("0"):
        integer = "1"                                  # never zero
    if rng.random() < 0.5:
        digits = digits.rstrip("0")                    # the shorter lexical form
    return integer + ("." + digits if digits else "")


def date_time(rng: random.Random, kind: str) -> str:
    """An xs:date, xs:dateTime or xs:time value in 2026, in varied lexical forms."""
    day = datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(365))
    clock = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    if kind == "xs:date":
        return day.isoformat()
    if kind == "xs:time":
        return clock + rng.choice(["", "", "Z"])
    return f"{day}T{clock}" + rng.choice(["", "Z", ".123", "+01:00", ".123+02:00", "-05:00"])


class Document:
    """One random document of a message, written as indented lines."""

    def __init__(self, schema: Schema, message: str, rng: random.Random, transactions: int):
        self.schema, self.rng, self.lines, self.size, self.max_depth = schema, rng, [], 0, 0
        blocks = BLOCKS.get(message, [])
        self.blocks = {blocks[0]: transactions} if blocks else {}
        self.blocks.update({path: rng.randint(1, 3) for path in blocks[1:]})
        self.forced = {"/".join(p.split("/")[:i]) for p in self.blocks for i in range(1, p.count("/") + 1)}

    def write(self, depth: int, line: str):
        """Adds one line at the indentation of `depth`."""
        self.lines.append("  " * depth + line)
        self.size += len(line) + 2 * depth + 1
        self.max_depth = max(self.max_depth, depth)

    def optional_probability(self, depth: int) -> float:
        """How likely an optional particle is written: 0.6 near the top, less deeper, 0 past the budget."""
        if depth > MAX_DEPTH or self.size > SIZE_BUDGET:
            return 0.0
        return 0.6 * 0.8 ** max(0, depth - 2)

    def count(self, node, depth: int, path: str | None = None) -> int:
        """How many times a particle (element or group) occurs, within its minOccurs/maxOccurs."""
        low, high = occurs(node, "minOccurs"), occurs(node, "maxOccurs")
        if path in self.blocks:
            return self.blocks[path]
        if path in self.forced:
            return 1
        if low == 0 and self.rng.random() >= self.optional_probability(depth):
            return 0
        if high > 1:
            return self.rng.randint(max(low, 1), int(min(high, max(low, 3))))
        return max(low, 1)

    def particle(self, node, depth: int, path: str):
        """Writes the content of a sequence, choice, element or xs:any (depth: its elements' depth)."""
        tag = node.tag[len(XS):]
        if tag == "element":
            child = f"{path}/{node.get('name')}" if path else node.get("name")
            for _ in range(self.count(node, depth, child)):
                self.element(node.get("name"), node.get("type"), depth, child)
        elif tag in ("sequence", "choice"):
            for _ in range(self.count(node, depth)):
                if tag == "sequence":
                    for item in node:
                        self.particle(item, depth, path)
                else:
                    self.particle(self.rng.choice(list(node)), depth, path)
        elif tag == "any":
            # A namespace the schema names (head.001's signature: XML-DSig), else one of ours.
            namespace = node.get("namespace", "##any")
            for _ in range(self.count(node, depth)):
                self.foreign(depth, namespace if not namespace.startswith("##") else "urn:example:payswitch:supplementary")
        elif tag != "annotation":
            sys.exit(f"unsupported particle xs:{tag} below {path}")

    def element(self, name: str, type_name: str, depth: int, path: str):
        """Writes one element of a named type."""
        if depth >= HARD_DEPTH:
            sys.exit(f"{path}: deeper than {HARD_DEPTH} elements (a recursive type with required content?)")
        complex_type = self.schema.complex.get(type_name)
        if complex_type is None:
            value = self.simple_value(type_name, name, None)
            self.write(depth, f"<{name}>{escape(value)}</{name}>")
            return
        content = complex_type.find(XS + "simpleContent")
        if content is not None:
            extension = content.find(XS + "extension")
            attributes, exponent = [], None
            for attribute in extension.findall(XS + "attribute"):
                if attribute.get("use") != "required" and self.rng.random() >= 0.5:
                    continue
                value = self.simple_value(attribute.get("type"), attribute.get("name"), None)
                exponent = CURRENCIES.get(value, exponent)
                attributes.append(f" {attribute.get('name')}={quoteattr(value)}")
            value = self.simple_value(extension.get("base"), name, exponent)
            self.write(depth, f"<{name}{''.join(attributes)}>{escape(value)}</{name}>")
            return
        self.write(depth, f"<{name}>")
        start = len(self.lines)
        for item in complex_type:
            self.particle(item, depth + 1, path)
        if len(self.lines) == start:
            self.lines[-1] = self.lines[-1][:-1] + "/>"
        else:
            self.write(depth, f"</{name}>")

    def simple_value(self, type_name: str, name: str, exponent: int | None) -> str:
        """A value of a simple type that satisfies every facet."""
        facets = self.schema.facets(type_name)
        rng, base = self.rng, facets["base"]
        if facets["enumeration"]:
            return rng.choice(facets["enumeration"])
        if "pattern" in facets:
            generator = PATTERNS.get(facets["pattern"])
            if generator is None:
                sys.exit(f"{type_name}: no generator for pattern {facets['pattern']}")
            value = generator(rng)
            assert re.fullmatch(facets["pattern"], value), (facets["pattern"], value)
            return value
        if base == "xs:decimal":
            return decimal(rng, facets, exponent)
        if base in ("xs:date", "xs:dateTime", "xs:time"):
            return date_time(rng, base)
        if base == "xs:boolean":
            return rng.choice(["true", "false"])
        if base == "xs:base64Binary":
            return base64.b64encode(rng.randbytes(rng.randint(int(facets.get("minLength", 1)), 48))).decode()
        if base == "xs:gYear":
            return str(rng.randint(1990, 2030))
        if base != "xs:string":
            sys.exit(f"{type_name}: unsupported base type {base}")
        low, high = int(facets.get("minLength", 1)), int(facets.get("maxLength", 35))
        if facets.get("name") in CODES:
            return rng.choice(CODES[facets["name"]])
        if facets.get("name", "").endswith("Code") and high <= 5:
            return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(rng.randint(max(low, min(high, 3)), high)))
        if name.endswith("Id") and high >= 16:
            day = date_time(rng, "xs:date").replace("-", "")
            value = f"{name[:-2].upper()[:6] or 'ID'}-{day}-{rng.randint(0, 999999):06d}"
            return value[:high].rstrip("-")
        return text(rng, low, high)

    def foreign(self, depth: int, namespace: str):
        """Writes the xs:any content: an element in a foreign namespace with one or two leaves."""
        rng = self.rng
        root = rng.choice(["Extension", "Addendum", "LocalData"])
        self.write(depth, f'<sd:{root} xmlns:sd={quoteattr(namespace)}>')
        leaves = [("Code", PATTERNS["[a-zA-Z0-9]{4}"](rng)), (rng.choice(["Note", "Remark"]), text(rng, 1, 35)),
                  (rng.choice(["Ref", "Reference"]), f"SD-{rng.randint(1, 99999):05d}")]
        for leaf, value in rng.sample(leaves, rng.randint(1, 2)):
            self.write(depth + 1, f"<sd:{leaf}>{escape(value)}</sd:{leaf}>")
        self.write(depth, f"</sd:{root}>")

    def render(self) -> str:
        """Generates the whole document and returns its text."""
        root = self.schema.document
        self.write(0, f"<{root.get('name')} xmlns={quoteattr(self.schema.namespace)}>")
        if root.get("name") == "AppHdr":
            for item in self.schema.complex[root.get("type")]:
                self.particle(item, 1, "")
        else:
            self.message_element(self.schema.complex[root.get("type")].find(f"{XS}sequence/{XS}element"))
        self.write(0, f"</{root.get('name')}>")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + "\n".join(self.lines) + "\n"

    def message_element(self, decl):
        """Writes the message element; block paths are taken below it."""
        name = decl.get("name")
        self.write(1, f"<{name}>")
        for item in self.schema.complex[decl.get("type")]:
            self.particle(item, 2, "")
        self.write(1, f"</{name}>")


def generate(message: str, seed: int, count: int, out: Path) -> list[tuple[Path, int, int]]:
    """Writes `count` documents of a message; returns (file, transactions, depth) for each."""
    schema = Schema(ROOT / "specs/iso20022" / f"{message}.xsd")
    folder = out / message
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index in range(1, count + 1):
        rng = random.Random(f"{seed}:{message}:{index}")
        transactions = rng.randint(2, 3) if index % 3 == 0 else rng.randint(1, 3)
        document = Document(schema, message, rng, transactions)
        path = folder / f"{index:02d}.xml"
        path.write_bytes(document.render().encode("utf-8"))
        written.append((path, transactions, document.max_depth))
    return written


def validate(message: str, files: list[Path]) -> bool:
    """Runs xmllint on the files against the message's XSD; prints what does not validate."""
    result = subprocess.run(["xmllint", "--noout", "--schema", str(ROOT / "specs/iso20022" / f"{message}.xsd"),
                             *map(str, files)], capture_output=True, text=True)
    problems = [line for line in result.stderr.splitlines() if not line.endswith(" validates")]
    for line in problems:
        print(f"  {line}", file=sys.stderr)
    return result.returncode == 0 and not problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=12)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--messages", default=",".join(MESSAGES), help="comma-separated, default all")
    parser.add_argument("--validate", action="store_true", help="check every document with xmllint")
    args = parser.parse_args()
    messages = [m for m in args.messages.split(",") if m]
    unknown = [m for m in messages if m not in MESSAGES]
    if unknown:
        parser.error(f"unknown messages: {', '.join(unknown)}")
    all_valid = True
    for message in messages:
        written = generate(message, args.seed, args.count, args.out)
        sizes = [path.stat().st_size for path, _, _ in written]
        several = sum(1 for _, transactions, _ in written if transactions >= 2)
        status = ""
        if args.validate:
            valid = validate(message, [path for path, _, _ in written])
            all_valid &= valid
            status = ", all valid" if valid else ", INVALID documents"
        blocks = f", {several} with 2+ {BLOCKS[message][0]}" if message in BLOCKS else ""
        print(f"{message}: {len(written)} documents, {min(sizes)}-{max(sizes)} bytes, depth <= "
              f"{max(d for _, _, d in written)}{blocks}{status}")
    return 0 if all_valid else 1


if __name__ == "__main__":
    sys.exit(main())
