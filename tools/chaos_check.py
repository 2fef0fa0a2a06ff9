#!/usr/bin/env python3
"""Checks a tools/chaos.sh run: POS reports, the journal and the issuers' records agree; prints the numbers."""
import collections
import glob
import json
import os
import re
import sys

from card_scan import luhn, scan

work = sys.argv[1]
problems = []


def check(condition, message):
    if not condition:
        problems.append(message)


def lines(path):
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


# POS: every request answered exactly once, or lost with a connection the POS saw close.
pos = collections.Counter()
pos_codes = collections.Counter()
for path in sorted(glob.glob(os.path.join(work, "pos-*.json"))):
    with open(path) as handle:
        report = json.load(handle)
    counts = report["counts"]
    pos.update(counts)
    pos_codes.update(report["codes"])
    name = os.path.basename(path)
    check(counts["matched"] + counts["lostOnClose"] + counts["sendFailures"] == counts["sent"],
          f"{name}: sent {counts['sent']} but matched {counts['matched']} + lost {counts['lostOnClose']} + unsent {counts['sendFailures']}")
    for kind in ("mismatched", "timedOut", "late", "unexpected", "undecodable"):
        check(counts[kind] == 0, f"{name}: {counts[kind]} {kind}")

# The journal: one record per answer, per response code, but answers cut off by the kill.
journal = lines(os.path.join(work, "journal.jsonl"))
answered = [r for r in journal if r["outcome"] != "interrupted"]
interrupted = [r for r in journal if r["outcome"] == "interrupted"]
journal_codes = collections.Counter(r.get("responseCode") or "-" for r in answered)
excess = 0
for code in sorted(set(journal_codes) | set(pos_codes)):
    check(journal_codes[code] >= pos_codes[code], f"code {code}: journal {journal_codes[code]} < POS {pos_codes[code]}")
    excess += max(0, journal_codes[code] - pos_codes[code])
lost = pos["lostOnClose"]
check(excess <= lost, f"{excess} journalled answers the POS never got, more than the {lost} requests lost with the kill")
check(len(interrupted) <= lost, f"{len(interrupted)} interrupted, more than the {lost} requests lost with the kill")

# Reversals: exactly one per purchase left unanswered, acknowledged; the issuers saw each.
reversed_ = [r for r in journal if r.get("forward") == "reversal"]
for record in reversed_:
    check(record.get("forwardState") == "acknowledged", f"transaction {record['id']}: reversal {record.get('forwardState')}")
unanswered = [r for r in journal if r["outcome"] in ("timeout", "interrupted") or (r["outcome"] in ("unavailable", "system-error") and r.get("hostStan"))]
check(all(r.get("forward") == "reversal" for r in unanswered),
      f"{sum(1 for r in unanswered if r.get('forward') != 'reversal')} unanswered purchases without a reversal")
records = []
for path in glob.glob(os.path.join(work, "issuer-*.jsonl")):
    records += [dict(r, file=os.path.basename(path)) for r in lines(path)]
seen = collections.Counter()
for record in records:
    if record.get("kind") == "reversal" and record.get("original") and not record.get("fault"):
        seen[(record["file"][:8], record["original"][4:10])] += 1
originals = collections.Counter()
for record in reversed_:
    channel = record["channel"].replace("issuer-", "issuer-")
    originals[(channel[:8], record.get("hostStan"))] += 1
missing = [key for key in originals if seen[key] == 0]
check(not missing, f"{len(missing)} reversals never reached an issuer: {missing[:5]}")
first_sends = collections.Counter()
for record in records:
    if record.get("kind") == "reversal" and record.get("message", "").endswith("0") and not record.get("fault"):
        first_sends[(record["file"][:8], record["original"][4:10])] += 1
check(all(count == 1 for count in first_sends.values()), "a reversal went out twice as a first send (not as a repeat)")
repeats = sum(seen.values()) - sum(first_sends.values())

# No clear card number anywhere written: no Luhn-valid digit run in the logs, the records or any
# journal row (journal.jsonl); no byte sequence of a card number sent in any file, the database's
# included (binary: numbers stored side by side there can form digit runs of their own).
with open(os.path.join(work, "pans.txt")) as handle:
    pans = [line.strip().encode() for line in handle if line.strip()]
luhn_hits = []
pan_hits = []
for path in glob.glob(os.path.join(work, "**", "*"), recursive=True):
    name = os.path.basename(path)
    if not os.path.isfile(path) or name.endswith((".yaml", ".key")) or name == "pans.txt":
        continue
    with open(path, "rb") as handle:
        data = handle.read()
    if any(pan in data for pan in pans):
        pan_hits.append(name)
    if name == "pg-dump.sql":
        # A cluster run's database, dumped as text: its bytea hexadecimal and millisecond times are
        # not card numbers (tools/card_scan.py knows them).
        if scan([path]):
            luhn_hits.append(name)
    elif ".sqlite" not in name:
        # No card number starts with 0 (major industry identifier 0 is not issued): zero-padded
        # amounts and counts (DE 86-89 totals) are not card numbers.
        for match in re.finditer(rb"(?<![0-9])[1-9][0-9]{12,18}(?![0-9])", data):
            if luhn(match.group().decode()):
                luhn_hits.append(name)
check(not luhn_hits, f"Luhn-valid digit runs in {sorted(set(luhn_hits))}")
check(not pan_hits, f"a card number sent in {sorted(set(pan_hits))}")

# Day end: one business date per record, the cutover splitting the run in two; issuer B's clearing
# file reconciles whole and its totals balance; issuer A's shows exactly the differences it injected.
dates = sorted({r.get("businessDate") or "-" for r in journal})
check(all(r.get("businessDate") for r in journal), "journal records without a business date")
check(len(dates) == 2, f"the cutover mid-load should give two business dates, found {dates}")
injected = {"reversal-difference": 1, "amount-difference": 1, "host-only": 1, "duplicate": 1}
day_end = {}
for name in ("a", "b"):
    counts = collections.Counter()
    for day in dates:
        path = os.path.join(work, f"reconcile-{name}-{day}.json")
        try:
            with open(path) as handle:
                counts.update(json.load(handle)["counts"])
        except (OSError, ValueError, KeyError) as error:
            check(False, f"issuer {name}, {day}: no reconciliation report ({error})")
        if name == "b":
            try:
                with open(os.path.join(work, f"totals-{name}-{day}.json")) as handle:
                    totals = json.load(handle)
                check(totals.get("host", {}).get("code") == "00" and not totals["host"].get("differences") and totals["pendingReversals"] == 0,
                      f"issuer B, {day}: 0520 totals not in balance: {totals.get('host')}")
            except (OSError, ValueError, KeyError) as error:
                check(False, f"issuer B, {day}: no totals ({error})")
    exceptions = {category: count for category, count in counts.items() if category != "matched" and count}
    expected = injected if name == "a" else {}
    check(exceptions == expected, f"issuer {name}: reconciliation exceptions {exceptions}, expected {expected}")
    check(counts["matched"] > 0, f"issuer {name}: nothing matched")
    day_end[name] = dict(counts)

faults = collections.Counter(r.get("fault") for r in records if r.get("fault"))
print(f"chaos: POS sent {pos['sent']}, answered {pos['matched']}, lost with a connection {pos['lostOnClose']}, unsent {pos['sendFailures']}; "
      f"mismatched {pos['mismatched']}, unexpected {pos['unexpected']}, timed out {pos['timedOut']}")
print(f"chaos: POS codes {dict(sorted(pos_codes.items()))}")
print(f"chaos: journal {len(journal)} records: codes {dict(sorted(journal_codes.items()))}, interrupted {len(interrupted)}, "
      f"answers cut off by the kill {excess}")
print(f"chaos: issuer faults injected {dict(sorted(faults.items()))}")
print(f"chaos: reversals {len(reversed_)}, all acknowledged: {all(r.get('forwardState') == 'acknowledged' for r in reversed_)}; "
      f"first sends at the issuers {sum(first_sends.values())}, repeats {repeats}")
print(f"chaos: business dates {dates}; reconciliation issuer A {day_end.get('a')} (4 differences injected), issuer B {day_end.get('b')}")
if problems:
    print("chaos: FAILED")
    for problem in problems:
        print("  " + problem)
    sys.exit(1)
print("chaos: PASS")
