#!/usr/bin/env python3
"""Luhn-valid card numbers in text files (a pg_dump, logs): prints them masked, exits 1 when any.

    tools/card_scan.py FILE...

bytea (\\x...) and hexadecimal words (hashes, sealed data) are not card numbers; nor millisecond
times (13 digits from 1). `luhn` is shared with tools/chaos_check.py.
"""
import re
import sys


def luhn(digits):
    """Whether a digit string passes the Luhn check."""
    total = 0
    for index, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def scan(paths):
    found = {}
    for path in paths:
        try:
            text = open(path, errors="replace").read()
        except FileNotFoundError:
            continue
        text = re.sub(r"\\x[0-9a-fA-F]+|\b[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b", " ", text)
        for run in re.findall(r"(?<!\d)\d{13,19}(?!\d)", text):
            if len(run) == 13 and run.startswith("1"):
                continue
            if luhn(run):
                found.setdefault(path, set()).add(run[:6] + "*" * (len(run) - 10) + run[-4:])
    return found


if __name__ == "__main__":
    found = scan(sys.argv[1:])
    count = sum(len(runs) for runs in found.values())
    print(f"card scan: {len(sys.argv) - 1} files: {count} Luhn-valid card numbers"
          + "".join(f"\n  {path}: {sorted(runs)}" for path, runs in found.items()))
    sys.exit(0 if count == 0 else 1)
