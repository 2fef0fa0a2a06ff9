#!/usr/bin/env python3
"""Independent oracles for the conformance suites (run by tools/conformance/oracles.sh).

(a) xmllint with the official XSDs (specs/iso20022/*.xsd) validates
    - every ISO 20022 document the suites send (`send: {xml: ...}`), and
    - every document the switch answers to them: the ISO 20022 sessions are replayed against
      `payswitch serve` on conformance/switch.yaml, with `payswitch sim issuer --iso20022` as the bank.
    A document the switch must refuse (DOCTYPE, not well-formed, unknown namespace) cannot be
    validated; such documents are allowed only in conformance/errors/ and are counted apart.
(b) Wireshark's ISO 8583 dissector (tshark) decodes every ISO 8583 frame the ASCII-dialect sessions
    send (iso87ascii, iso93ascii), encoded by `payswitch iso8583 encode`, with a 2-byte big-endian
    length: no malformed packet, no expert warning, and every field equal to the capture's.
(b2) The same dissector reads the wire of those sessions replayed through the switch (`replay --pcap`):
    requests and the switch's answers, each field equal to what our importer reads.

Card data is never printed in clear: values of sensitive fields are masked in every message.
Exit status: 0 when every check passes, 1 otherwise, 2 when the oracles cannot run.
"""

import glob
import json
import os
import re
import queue
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
XSD_DIR = os.path.join(ROOT, "specs", "iso20022")
NS_PREFIX = "urn:iso:std:iso:20022:tech:xsd:"
SENSITIVE = {2, 14, 34, 35, 36, 45, 52, 55}   # PAN, expiry, track data, PIN block, chip data
BINARY = {52, 53, 55, 64, 96, 128}            # compared as hexadecimal, case ignored
ASCII_DIALECTS = ("iso87ascii", "iso93ascii")

failures = []


def fail(message):
    failures.append(message)
    print("  FAIL " + message)


def mask(field, value):
    value = str(value)
    if field not in SENSITIVE:
        return value
    if field == 2 and len(value) >= 12:
        return value[:6] + "*" * (len(value) - 10) + value[-4:]
    return "*" * len(value)


# ---------------------------------------------------------------- captures

def load_captures():
    files = sorted(glob.glob(os.path.join(ROOT, "conformance", "**", "*.capture.yaml"), recursive=True))
    captures = []
    for path in files:
        with open(path, encoding="utf-8") as handle:
            captures.append((os.path.relpath(path, ROOT), yaml.safe_load(handle)))
    return captures


# ---------------------------------------------------------------- (a) XSD

def document_parts(text):
    """The parts of a document to validate, as (schema name, xml text); or (None, reason)."""
    if re.search(r"<!DOCTYPE", text):
        return None, "DOCTYPE"
    try:
        root = ET.fromstring(text.encode("utf-8"))
    except ET.ParseError as error:
        return None, "not well-formed (%s)" % error
    def schema_of(element):
        match = re.match(r"\{" + re.escape(NS_PREFIX) + r"([^}]+)\}", element.tag)
        if not match:
            return None
        name = match.group(1)
        return name if os.path.exists(os.path.join(XSD_DIR, name + ".xsd")) else None
    if root.tag.startswith("{"):
        name = schema_of(root)
        if not name:
            return None, "no XSD for namespace %s" % root.tag[1:].split("}")[0]
        return [(name, text)], None
    # An envelope (BizMsg ...): the header and the document are validated each against its schema.
    parts = []
    for child in root:
        name = schema_of(child)
        local = child.tag.split("}")[-1]
        if not name:
            return None, "envelope part %s has no XSD" % local
        match = re.search(r"<((?:\w+:)?%s)[\s>].*?</\1>" % re.escape(local), text, re.S)
        if not match:
            return None, "envelope part %s not found" % local
        parts.append((name, '<?xml version="1.0" encoding="UTF-8"?>\n' + match.group(0) + "\n"))
    if not parts:
        return None, "an envelope without parts"
    return parts, None


def validate(documents, workdir, label):
    """documents: list of (where, text, refusable). Returns (validated, refused)."""
    by_schema = {}
    refused = 0
    index = 0
    for where, text, refusable in documents:
        parts, reason = document_parts(text)
        if parts is None:
            if refusable:
                refused += 1
            else:
                fail("%s: %s: cannot be validated: %s" % (label, where, reason))
            continue
        for schema, part in parts:
            index += 1
            path = os.path.join(workdir, "%s-%04d.xml" % (label.replace(" ", "-"), index))
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(part)
            by_schema.setdefault(schema, []).append((path, where))
    validated = 0
    for schema, items in sorted(by_schema.items()):
        command = ["xmllint", "--noout", "--schema", os.path.join(XSD_DIR, schema + ".xsd")] + [p for p, _ in items]
        result = subprocess.run(command, capture_output=True, text=True)
        output = result.stderr
        for path, where in items:
            if re.search(re.escape(path) + r" validates", output):
                validated += 1
            else:
                details = [line for line in output.splitlines() if line.startswith(path + ":")]
                fail("%s: %s: invalid against %s.xsd: %s" % (label, where, schema,
                     "; ".join(line[len(path) + 1:].strip() for line in details[:3]) or "xmllint: " + output.strip()[:200]))
    return validated, refused


def sent_documents(captures):
    documents = []
    for file, capture in captures:
        for session in capture["sessions"]:
            for number, step in enumerate(session["steps"], 1):
                send = step.get("send") or {}
                if "xml" in send:
                    where = "%s / %s / step %d" % (file, session["name"], number)
                    documents.append((where, send["xml"], file.startswith("conformance/errors/")))
    return documents


# ---------------------------------------------------------------- (a) answers from a live switch

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_line(process, pattern, seconds):
    """The first line of the process's output matching `pattern` (read by a thread: no blocking
    read past a deadline, no lines lost in a buffer)."""
    if not hasattr(process, "lines"):
        process.lines = queue.Queue()
        def pump():
            for line in process.stdout:
                process.lines.put(line)
            process.lines.put(None)
        threading.Thread(target=pump, daemon=True).start()
    deadline = time.time() + seconds
    seen = []
    while time.time() < deadline:
        try:
            line = process.lines.get(timeout=max(0.01, deadline - time.time()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match
    raise RuntimeError("no line matching %r (got: %s)" % (pattern, "".join(seen)[-400:]))


def read_frame(sock, timeout):
    sock.settimeout(timeout)
    try:
        head = b""
        while len(head) < 4:
            chunk = sock.recv(4 - len(head))
            if not chunk:
                return None
            head += chunk
        length = struct.unpack(">I", head)[0]
        body = b""
        while len(body) < length:
            chunk = sock.recv(length - len(body))
            if not chunk:
                return None
            body += chunk
        return body
    except (socket.timeout, ConnectionError):
        return None


def answered_documents(captures, binary, workdir):
    """Replays the ISO 20022 sessions against `payswitch serve` and returns the answers."""
    bank = subprocess.Popen([binary, "sim", "issuer", "--iso20022", "--framing", "bin4", "--port", "0", "--seconds", "120"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=workdir)
    serve = None
    try:
        bank_port = int(wait_for_line(bank, r"listening on 127\.0\.0\.1:(\d+)", 10).group(1))
        shutil.copy(os.path.join(ROOT, "conformance", "rules.yaml"), os.path.join(workdir, "rules.yaml"))
        with open(os.path.join(ROOT, "conformance", "switch.yaml"), encoding="utf-8") as handle:
            config = handle.read()
        config = config.replace('"127.0.0.1:9331"', '"127.0.0.1:%d"' % bank_port)
        for port in ("9301", "9311", "9321"):   # the card issuers: unreachable, unused here
            config = config.replace('"127.0.0.1:%s"' % port, '"127.0.0.1:%d"' % free_port())
        config = re.sub(r"(?m)^  path: .*$", "  path: data/switch.sqlite", config)
        config = re.sub(r"(?m)^  key-file: .*$", "  key-file: data/data.key", config)
        with open(os.path.join(workdir, "switch.yaml"), "w", encoding="utf-8") as handle:
            handle.write(config)
        serve = subprocess.Popen([binary, "serve", "--config", "switch.yaml", "--log-level", "critical", "--seconds", "120"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=workdir)
        port = int(wait_for_line(serve, r"listener banks \(iso20022\) listening on 127\.0\.0\.1:(\d+)", 15).group(1))
        time.sleep(0.3)   # the bank link connects
        answers = []
        for file, capture in captures:
            for session in capture["sessions"]:
                if not session.get("iso20022"):
                    continue
                if any("raw" in (step.get("send") or {}) for step in session["steps"]):
                    continue   # a broken length prefix: the connection is closed, nothing to validate
                where = "%s / %s" % (file, session["name"])
                with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                    for step in session["steps"]:
                        send = step.get("send") or {}
                        if "xml" in send:
                            payload = send["xml"].encode("utf-8")
                            sock.sendall(struct.pack(">I", len(payload)) + payload)
                        elif "hex" in send:
                            payload = bytes.fromhex(send["hex"])
                            sock.sendall(struct.pack(">I", len(payload)) + payload)
                        elif "expect" in step:
                            frame = read_frame(sock, float(step.get("within", 5)))
                            if frame is None:
                                fail("answers: %s: no answer from the switch" % where)
                            else:
                                answers.append((where, frame.decode("utf-8", "replace"), False))
                        elif "expect-silence" in step:
                            frame = read_frame(sock, float(step["expect-silence"]))
                            if frame is not None:
                                answers.append((where + " (unexpected)", frame.decode("utf-8", "replace"), False))
                        elif "expect-close" in step:
                            break
        return answers
    finally:
        for process in (serve, bank):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()


# ---------------------------------------------------------------- (b) tshark

def pcap(frames, path):
    """A classic pcap: one Ethernet/IPv4/TCP packet per frame (2-byte big-endian length + payload),
    each on its own connection (source port) to port 8583."""
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for number, frame in enumerate(frames):
            payload = struct.pack(">H", len(frame)) + frame
            tcp = struct.pack(">HHIIBBHHH", 40000 + number, 8583, 1, 1, 5 << 4, 0x18, 65535, 0, 0)
            ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), number & 0xFFFF, 0, 64, 6, 0,
                             bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
            ether = b"\x00" * 12 + b"\x08\x00"
            packet = ether + ip + tcp + payload
            out.write(struct.pack("<IIII", 1_700_000_000 + number, 0, len(packet), len(packet)))
            out.write(packet)


def has_key(node, prefix):
    if isinstance(node, dict):
        return any(key.startswith(prefix) or has_key(value, prefix) for key, value in node.items())
    if isinstance(node, list):
        return any(has_key(item, prefix) for item in node)
    return False


def tshark_check(captures, binary, workdir):
    frames = []     # (where, dialect, mti, {field: value})
    skipped = {}
    for file, capture in captures:
        for session in capture["sessions"]:
            dialect = session.get("iso8583")
            if dialect not in ASCII_DIALECTS:
                continue
            for number, step in enumerate(session["steps"], 1):
                send = step.get("send") or {}
                if "mti" not in send:
                    if send:
                        skipped["malformed on purpose (hex or raw bytes)"] = skipped.get("malformed on purpose (hex or raw bytes)", 0) + 1
                    continue
                fields = {int(key): str(value) for key, value in (send.get("fields") or {}).items()}
                where = "%s / %s / step %d" % (file, session["name"], number)
                if any(field > 128 for field in fields):
                    reason = "fields above 128 (the dissector knows bits 1-128 only)"
                    skipped[reason] = skipped.get(reason, 0) + 1
                    continue
                if dialect == "iso93ascii" and 55 in fields:
                    reason = ("1993 DE 55 (Wireshark's 1993 table counts its LLL in bytes, iso93ascii in hexadecimal "
                              "characters as pyiso8583's ASCII layout does)")
                    skipped[reason] = skipped.get(reason, 0) + 1
                    continue
                frames.append((where, dialect, str(send["mti"]), fields))
    encoded = []
    for dialect in ASCII_DIALECTS:
        chosen = [frame for frame in frames if frame[1] == dialect]
        if not chosen:
            continue
        lines = "".join(json.dumps({"mti": mti, "fields": {str(k): v for k, v in fields.items()}}) + "\n" for _, _, mti, fields in chosen)
        result = subprocess.run([binary, "iso8583", "encode", "--spec", dialect, "--lines"], input=lines, capture_output=True, text=True)
        outputs = result.stdout.splitlines()
        if result.returncode != 0 or len(outputs) != len(chosen):
            fail("payswitch iso8583 encode --spec %s failed (exit %d): %s" % (dialect, result.returncode, result.stderr.strip()[:200]))
            continue
        for frame, output in zip(chosen, outputs):
            if not re.fullmatch(r"[0-9A-Fa-f]+", output.strip()):
                fail("%s: our encoder refused the frame: %s" % (frame[0], output.strip()[:120]))
                continue
            encoded.append((frame, bytes.fromhex(output.strip())))
    path = os.path.join(workdir, "frames.pcap")
    pcap([raw for _, raw in encoded], path)
    result = subprocess.run(["tshark", "-r", path, "-d", "tcp.port==8583,iso8583", "-o", "iso8583.len_endian:bigendian", "-T", "json"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        fail("tshark failed: " + result.stderr.strip()[:300])
        return 0, 0, 0, skipped
    packets = json.loads(result.stdout or "[]")
    if len(packets) != len(encoded):
        fail("tshark read %d packets, %d were written" % (len(packets), len(encoded)))
    compared = fields_compared = mismatches = 0
    for ((where, dialect, mti, fields), raw), packet in zip(encoded, packets):
        layers = packet["_source"]["layers"]
        iso = layers.get("iso8583")
        if not isinstance(iso, dict):
            fail("%s: tshark did not dissect the frame as ISO 8583" % where)
            mismatches += 1
            continue
        if "_ws.malformed" in layers or has_key(iso, "_ws.malformed"):
            fail("%s: tshark: malformed packet" % where)
            mismatches += 1
        if has_key(iso, "_ws.expert"):
            fail("%s: tshark: expert warning in the ISO 8583 layer" % where)
            mismatches += 1
        compared += 1
        if iso.get("iso8583.mti") != mti:
            fail("%s: MTI: ours %s, tshark %s" % (where, mti, iso.get("iso8583.mti")))
            mismatches += 1
        seen = {int(key[len("iso8583.bit"):]) for key in iso if re.fullmatch(r"iso8583\.bit\d+", key)} - {1, 65}
        for field, value in sorted(fields.items()):
            fields_compared += 1
            theirs = iso.get("iso8583.bit%d" % field)
            same = theirs == value or (field in BINARY and theirs is not None and theirs.upper() == value.upper())
            if not same:
                mismatches += 1
                fail("%s: DE %d: ours '%s', tshark %s" % (where, field, mask(field, value),
                                                          "none" if theirs is None else "'%s'" % mask(field, theirs)))
        for extra in sorted(seen - set(fields)):
            mismatches += 1
            fail("%s: tshark decodes DE %d, which the frame does not carry" % (where, extra))
    return compared, fields_compared, mismatches, skipped


# ---------------------------------------------------------------- (b2) the switch's answers, through tshark

def answers_check(binary, workdir):
    """Replays the iso87ascii and iso93ascii suites through the switch with `replay --pcap`, and has
    tshark dissect that pcapng: every frame on the wire, the switch's answers among them. Each
    ISO 8583 packet must dissect with no malformed packet and no expert warning, and the fields of
    each answer equal what our own importer reads from the same file (`payswitch capture import`);
    values the importer replaces (card data) and the approval code's pattern are not compared."""
    compared = fields_compared = mismatches = 0
    skipped = {}
    for dialect in ASCII_DIALECTS:
        folder = os.path.join(ROOT, "conformance", "iso8583", dialect)
        path = os.path.join(workdir, dialect + ".pcapng")
        run = subprocess.run([binary, "replay", folder, "--config", os.path.join(ROOT, "conformance", "switch.yaml"),
                              "--down", "issuer-c", "--as-fast-as-possible", "--pcap", path], capture_output=True, text=True)
        if run.returncode != 0:
            fail("replay of %s with --pcap failed (exit %d): %s" % (dialect, run.returncode, run.stdout.strip()[-300:]))
            continue
        imported = os.path.join(workdir, dialect + ".capture.yaml")
        result = subprocess.run([binary, "capture", "import", path, "--port", "9100", "--framing", "bin2", "--spec", dialect,
                                 "--out", imported], capture_output=True, text=True)
        if result.returncode != 0:
            fail("capture import of the %s replay failed: %s" % (dialect, result.stderr.strip()[-300:]))
            continue
        with open(imported, encoding="utf-8") as handle:
            capture = yaml.safe_load(handle)
        # In time order, as tshark lists the packets: sessions ran one after another.
        ours = []
        for session in capture["sessions"]:
            for step in session["steps"]:
                frame = step.get("send") or step.get("expect")
                if frame is None or "mti" not in frame:
                    continue
                mti = frame["mti"] if isinstance(frame["mti"], str) else None
                fields = {}
                for key, value in (frame.get("fields") or {}).items():
                    fields[int(str(key).split(".")[0])] = value if isinstance(value, str) else None
                ours.append(("send" in step, mti, fields, session["name"]))
        result = subprocess.run(["tshark", "-r", path, "-d", "tcp.port==9100,iso8583", "-o", "iso8583.len_endian:bigendian",
                                 "-Y", "iso8583", "-T", "json"], capture_output=True, text=True)
        if result.returncode != 0:
            fail("tshark failed on the %s replay: %s" % (dialect, result.stderr.strip()[:300]))
            continue
        packets = json.loads(result.stdout or "[]")
        if len(packets) != len(ours):
            fail("%s replay: tshark found %d ISO 8583 packets, our importer %d frames" % (dialect, len(packets), len(ours)))
            continue
        for (is_request, mti, fields, session), packet in zip(ours, packets):
            where = "%s replay / %s / %s %s" % (dialect, session, "request" if is_request else "answer", mti)
            if any(field > 128 for field in fields):
                skipped["fields above 128"] = skipped.get("fields above 128", 0) + 1
                continue
            if dialect == "iso93ascii" and 55 in fields:
                skipped["1993 DE 55"] = skipped.get("1993 DE 55", 0) + 1
                continue
            layers = packet["_source"]["layers"]
            iso = layers.get("iso8583")
            if isinstance(iso, list):
                iso = iso[0]
            if not isinstance(iso, dict):
                fail("%s: tshark did not dissect it as ISO 8583" % where)
                mismatches += 1
                continue
            compared += 1
            if "_ws.malformed" in layers or has_key(iso, "_ws.malformed") or has_key(iso, "_ws.expert"):
                fail("%s: tshark: malformed packet or expert warning" % where)
                mismatches += 1
            if mti is not None and iso.get("iso8583.mti") != mti:
                fail("%s: MTI: ours %s, tshark %s" % (where, mti, iso.get("iso8583.mti")))
                mismatches += 1
            seen = {int(key[len("iso8583.bit"):]) for key in iso if re.fullmatch(r"iso8583\.bit\d+", key)} - {1, 65}
            if seen != set(fields):
                fail("%s: fields: ours %s, tshark %s" % (where, sorted(fields), sorted(seen)))
                mismatches += 1
            for field, value in sorted(fields.items()):
                if value is None or field in SENSITIVE:
                    continue
                fields_compared += 1
                theirs = iso.get("iso8583.bit%d" % field)
                if not (theirs == value or (field in BINARY and theirs is not None and theirs.upper() == value.upper())):
                    mismatches += 1
                    fail("%s: DE %d: ours '%s', tshark %s" % (where, field, mask(field, value), "none" if theirs is None else "'%s'" % mask(field, theirs)))
    return compared, fields_compared, mismatches, skipped


# ---------------------------------------------------------------- main

def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "debug", "payswitch")
    binary = os.path.abspath(binary)
    for tool in ("xmllint", "tshark"):
        if shutil.which(tool) is None:
            print("oracles: %s is not installed" % tool)
            return 2
    captures = load_captures()
    print("oracles: %d capture files" % len(captures))
    workdir = tempfile.mkdtemp(prefix="payswitch-oracles-")
    try:
        print("(a) ISO 20022 documents against the XSDs (xmllint)")
        sent = sent_documents(captures)
        sent_valid, sent_refused = validate(sent, workdir, "sent")
        print("  sent: %d documents, %d schema parts valid, %d refused by design (conformance/errors/)" % (len(sent), sent_valid, sent_refused))
        answers = answered_documents(captures, binary, workdir)
        answer_valid, _ = validate(answers, workdir, "answer")
        print("  answered by the switch: %d documents, %d valid" % (len(answers), answer_valid))

        print("(b) ISO 8583 frames of the ASCII dialects through Wireshark's dissector (tshark)")
        frames, fields, mismatches, skipped = tshark_check(captures, binary, workdir)
        for reason, count in sorted(skipped.items()):
            print("  not compared: %d frame(s): %s" % (count, reason))
        print("  frames compared: %d, fields compared: %d, mismatches: %d" % (frames, fields, mismatches))

        print("(b2) the switch's ISO 8583 answers in the ASCII dialects, on the wire (replay --pcap), through tshark")
        wire_frames, wire_fields, wire_mismatches, wire_skipped = answers_check(binary, workdir)
        for reason, count in sorted(wire_skipped.items()):
            print("  not compared: %d frame(s): %s" % (count, reason))
        print("  frames on the wire compared: %d (requests and answers), fields compared: %d, mismatches: %d"
              % (wire_frames, wire_fields, wire_mismatches))

        print("summary: documents validated %d (sent %d, answers %d), frames compared %d, fields compared %d, mismatches %d, failures %d"
              % (sent_valid + answer_valid, sent_valid, answer_valid, frames + wire_frames, fields + wire_fields,
                 mismatches + wire_mismatches, len(failures)))
    except Exception as error:   # a broken oracle is a failure, never a pass
        fail("oracle error: %s: %s" % (type(error).__name__, error))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if failures:
        print("oracles: FAILED (%d)" % len(failures))
        return 1
    print("oracles: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
