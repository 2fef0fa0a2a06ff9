#!/usr/bin/env python3
"""Cross-checks payswitch's security module against independent implementations from PyPI:
psec (ISO 9564 PIN blocks, ISO 9797-1 retail MAC), pydukpt (ANSI X9.24-1 TDES DUKPT key
derivation) and cryptography (TDES, AES, AES-CMAC), on random keys, PINs, PANs, KSNs and data.
(The older `dukpt` 1.0.1 package is not used: it skips counter bits above 0x100, so it gives the
wrong key for most KSNs; this check found that.)

Drives the payswitch binary (`keys import`, `pin encrypt|translate|verify`, `mac`) with a
temporary key store; PINs and PANs go through standard input. Exits 1 on the first disagreement.
Usage: security_check.py PAYSWITCH_BIN [--count N] [--seed S]
"""
import argparse, os, random, subprocess, sys, tempfile
import pydukpt
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC
from psec import pinblock, mac

try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # older cryptography
    TripleDES = algorithms.TripleDES


def tdes(key, data, encrypt=True):
    cipher = Cipher(TripleDES(key if len(key) == 24 else key + key[:8]), modes.ECB())
    op = cipher.encryptor() if encrypt else cipher.decryptor()
    return op.update(data) + op.finalize()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--count", type=int, default=25)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 32)
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="payswitch-security-")
    env = dict(os.environ, PAYSWITCH_MASTER_KEY=rng.randbytes(32).hex())
    store = ["--key-store", os.path.join(work, "keys.json")]

    def run(arguments, stdin="", ok=True):
        result = subprocess.run([args.binary] + arguments + store, input=stdin, capture_output=True, text=True, env=env)
        if ok and result.returncode != 0:
            fail(f"payswitch {' '.join(arguments)} failed: {result.stderr.strip()}")
        return result

    def fail(message):
        print(f"security check (seed {seed}): {message}")
        sys.exit(1)

    def new_key(name, usage, cipher, length):
        key = rng.randbytes(length)
        run(["keys", "import", "--name", name, "--usage", usage, "--cipher", cipher, "--replace"], key.hex() + "\n")
        return key

    checks = 0
    for case in range(args.count):
        pin = "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 12)))
        pan = "".join(rng.choice("0123456789") for _ in range(rng.randint(13, 19)))
        zpk = new_key("zpk", "zpk", "tdes", rng.choice([16, 24]))
        aes = new_key("aes", "zpk", "aes", rng.choice([16, 24, 32]))
        bdk = new_key("bdk", "bdk", "tdes", 16)

        # Format 0 has no random fill: the blocks are equal.
        ours = run(["pin", "encrypt", "--key", "zpk", "--format", "0"], f"{pin}\n{pan}\n").stdout.strip()
        theirs = tdes(zpk, pinblock.encode_pinblock_iso_0(pin, pan)).hex().upper()
        if ours != theirs: fail(f"format 0: {ours} != psec {theirs}")
        # Format 3: psec reads the PIN back.
        ours = bytes.fromhex(run(["pin", "encrypt", "--key", "zpk", "--format", "3"], f"{pin}\n{pan}\n").stdout.strip())
        if pinblock.decode_pinblock_iso_3(tdes(zpk, ours, False), pan) != pin: fail("format 3: psec reads another PIN")
        # Format 4 both ways.
        ours = bytes.fromhex(run(["pin", "encrypt", "--key", "aes", "--format", "4"], f"{pin}\n{pan}\n").stdout.strip())
        if pinblock.decipher_pinblock_iso_4(aes, ours, pan) != pin: fail("format 4: psec reads another PIN")
        theirs = pinblock.encipher_pinblock_iso_4(aes, pin, pan).hex()
        run(["pin", "verify", theirs, "--key", "aes", "--format", "4"], f"{pin}\n{pan}\n")
        # Translation of psec's format 0 block to format 4, read back by psec.
        block = tdes(zpk, pinblock.encode_pinblock_iso_0(pin, pan)).hex()
        translated = bytes.fromhex(run(["pin", "translate", block, "--from", "zpk", "--to", "aes", "--to-format", "4"], pan + "\n").stdout.strip())
        if pinblock.decipher_pinblock_iso_4(aes, translated, pan) != pin: fail("translation 0 -> 4: psec reads another PIN")
        # DUKPT: the dukpt package derives the terminal's key; psec builds the block.
        counter = 0
        while counter == 0:
            counter = sum(1 << bit for bit in rng.sample(range(21), rng.randint(1, 10)))
        serial = rng.randbytes(8)
        ksn_bytes = bytearray(serial + bytes(2))
        ksn_bytes[7] = (serial[7] & 0xE0) | (counter >> 16)
        ksn_bytes[8] = (counter >> 8) & 0xFF
        ksn_bytes[9] = counter & 0xFF
        ksn_hex = ksn_bytes.hex().upper()
        key = pydukpt.pin_key(pydukpt.derive_key(pydukpt.derive_ipek(bdk, bytes(ksn_bytes)), bytes(ksn_bytes)))
        ours = run(["pin", "encrypt", "--key", "bdk", "--ksn", ksn_hex, "--format", "0"], f"{pin}\n{pan}\n").stdout.strip()
        theirs = tdes(key, pinblock.encode_pinblock_iso_0(pin, pan)).hex().upper()
        if ours != theirs: fail(f"DUKPT KSN {ksn_hex}: {ours} != pydukpt/psec {theirs}")
        # MACs.
        data = rng.randbytes(rng.randint(0, 80))
        mak = new_key("mak", "mak", "tdes", 16)
        for padding, method in (("zeros", 1), ("bit", 2)):
            ours = run(["mac", "--key", "mak", "--padding", padding], data.hex() + "\n").stdout.strip()
            theirs = mac.generate_retail_mac(mak[:8], mak[8:], data, method).hex().upper()
            if ours != theirs: fail(f"retail MAC ({padding}): {ours} != psec {theirs}")
        amak = new_key("amak", "mak", "aes", rng.choice([16, 24, 32]))
        cmac = CMAC(algorithms.AES(amak)); cmac.update(data)
        ours = run(["mac", "--key", "amak"], data.hex() + "\n").stdout.strip()
        if ours != cmac.finalize().hex().upper(): fail("AES-CMAC differs from cryptography's")
        checks += 9
    print(f"security check (seed {seed}): {args.count} cases, {checks} comparisons with psec, pydukpt and cryptography: all agree")


if __name__ == "__main__":
    main()
