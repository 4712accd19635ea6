#!/usr/bin/env python3
"""Verify a Lifeguard archive export without Lifeguard, with the Python 3 standard library only.

    python3 verify_export.py DIR [--public-key HEX]
    python3 verify_export.py --self-test

DIR holds `manifest.json` and `entries.jsonl` as `docs/archive-format.md` describes, and the
checks are that document's verification steps, in order: the file against the manifest, every
line and its place in the hash chain, every payload against its SHA-256, every disposed payload
against a disposition entry, the counts, the chain's head, and the checkpoint's Ed25519
signature (verified here from the RFC 8032 definitions).

The public key travels with the bundle, so a forger can bring their own: pass the key you trust
with --public-key. Prints `ok: N entries, head HEX` and exits 0 when every check passes; prints
the first problem, naming the file, line and entry, and exits 1 otherwise.
"""

import argparse
import hashlib
import json
import os
import re
import sys

# Ed25519 (RFC 8032, section 5.1): the curve -x^2 + y^2 = 1 + d x^2 y^2 over GF(p), with points
# in extended coordinates (X, Y, Z, T), where x = X/Z, y = Y/Z and x y = T/Z.
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493  # the order of the base point
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENTITY = (0, 1, 1, 0)


def point_add(p1, p2):
    """The sum of two points; the formula is complete, so it also doubles."""
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a, b = (y1 - x1) * (y2 - x2) % P, (y1 + x1) * (y2 + x2) % P
    c, d = 2 * D * t1 * t2 % P, 2 * z1 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def point_mul(n, point):
    result = IDENTITY
    while n:
        if n & 1:
            result = point_add(result, point)
        point, n = point_add(point, point), n >> 1
    return result


def point_equal(p1, p2):
    return (p1[0] * p2[2] - p2[0] * p1[2]) % P == 0 and (p1[1] * p2[2] - p2[1] * p1[2]) % P == 0


def point_decode(data):
    """The point a 32-byte encoding (y, and the low bit of x in the top bit) names, or None."""
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    if len(data) != 32 or y >= P:
        return None
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P  # a square root of u/v...
    if v * x * x % P == -u % P:
        x = x * SQRT_M1 % P  # ...or of -u/v, fixed with sqrt(-1)
    if v * x * x % P != u or (x == 0 and sign):
        return None
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, x * y % P)


def point_encode(point):
    x, y, z, _ = point
    inverse = pow(z, P - 2, P)
    return (y * inverse % P | (x * inverse % P & 1) << 255).to_bytes(32, "little")


BASE = point_decode((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))  # y = 4/5, x even


def ed25519_verify(public, message, signature):
    """Whether `signature` (R, S) over `message` is valid for `public`: [S]B = R + [k]A."""
    if len(public) != 32 or len(signature) != 64:
        return False
    a, r = point_decode(public), point_decode(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % L
    return point_equal(point_mul(s, BASE), point_add(r, point_mul(k, a)))


def ed25519_public(secret):
    """The public key of a 32-byte secret key (used by the self-test)."""
    h = hashlib.sha512(secret).digest()
    return point_encode(point_mul(int.from_bytes(h[:32], "little") & ((1 << 254) - 8) | 1 << 254, BASE))


# The archive's encodings.
GENESIS = "0" * 64
KINDS = {"item", "verdict", "disposition", "hold", "hold_release", "retention", "action"}
STATES = {"present", "omitted", "disposed"}
LINE_KEYS = {"seq", "kind", "recorded_at", "prev", "payload_sha256", "hash", "payload", "state"}
SHAPES = {
    "hex": (re.compile(r"[0-9a-f]{64}"), "64 lowercase hex digits"),
    "key_id": (re.compile(r"[0-9a-f]{16}"), "16 lowercase hex digits"),
    "signature": (re.compile(r"[0-9a-f]{128}"), "128 lowercase hex digits"),
    "time": (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z"),
             "a time like 2026-03-01T09:30:00.000000Z"),
}
TYPES = {int: "an integer", str: "a string", dict: "an object", list: "a list"}


class Problem(Exception):
    """The first thing wrong with the bundle."""


def need(condition, message):
    if not condition:
        raise Problem(message)


def get(obj, key, kind, where, shape=None):
    """obj[key], which must have this type (and shape, for strings)."""
    value = obj.get(key) if isinstance(obj, dict) else None
    ok = type(value) is kind and (shape is None or SHAPES[shape][0].fullmatch(value))
    need(ok, f"{where}: `{key}` is missing or not {SHAPES[shape][1] if shape else TYPES[kind]}")
    return value


def canonical(value):
    """The canonical bytes of a decoded payload: what its SHA-256 was taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _refuse(text):
    raise ValueError(f"number {text} is not an integer")


def _unique(pairs):
    if len({key for key, _ in pairs}) != len(pairs):
        raise ValueError("an object repeats a key")
    return dict(pairs)


def strict_json(text):
    """Parses JSON, refusing floats, NaN and repeated keys, which have no canonical form."""
    return json.loads(text, parse_float=_refuse, parse_constant=_refuse, object_pairs_hook=_unique)


def entry_hash(seq, kind, recorded_at, prev, payload_sha256):
    text = f"lifeguard-entry-v1\n{seq}\n{kind}\n{recorded_at}\n{prev}\n{payload_sha256}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def checkpoint_message(seq, head, signed_at):
    return f"lifeguard-checkpoint-v1\n{seq}\n{head}\n{signed_at}".encode("utf-8")


def verify(directory, trusted_key=None):
    """Checks a bundle; returns (entries, head) or raises Problem."""
    # 1. The manifest.
    try:
        with open(os.path.join(directory, "manifest.json"), "rb") as file:
            manifest = strict_json(file.read().decode("utf-8"))
    except (OSError, ValueError) as err:
        raise Problem(f"manifest.json: cannot read it ({err})") from None
    where = "manifest.json"
    need(isinstance(manifest, dict), f"{where}: not a JSON object")
    need(manifest.get("format") == "lifeguard-export", f"{where}: `format` is not lifeguard-export")
    need(manifest.get("version") == 1, f"{where}: unsupported `version` {manifest.get('version')!r}")
    get(manifest, "created_at", str, where, "time")
    get(manifest, "filters", dict, where)
    counts, chain = get(manifest, "counts", dict, where), get(manifest, "chain", dict, where)
    checkpoint = get(manifest, "checkpoint", dict, where)
    public_hex = get(manifest, "public_key", str, where, "hex")

    # 2. The file: its size, lines and SHA-256 as the manifest lists them.
    files = get(manifest, "files", list, where)
    need([f.get("name") if isinstance(f, dict) else None for f in files] == ["entries.jsonl"],
         f"{where}: `files` must list entries.jsonl and nothing else")
    path = os.path.join(directory, "entries.jsonl")
    digest, size, lines, last_byte = hashlib.sha256(), 0, 0, b"\n"
    try:
        with open(path, "rb") as file:
            for chunk in iter(lambda: file.read(1 << 20), b""):
                digest.update(chunk)
                size, lines, last_byte = size + len(chunk), lines + chunk.count(b"\n"), chunk[-1:]
    except OSError as err:
        raise Problem(f"entries.jsonl: cannot read it ({err})") from None
    for key, found, kind, shape in (("bytes", size, int, None), ("lines", lines, int, None),
                                    ("sha256", digest.hexdigest(), str, "hex")):
        expected = get(files[0], key, kind, f"{where} files[0]", shape)
        need(found == expected, f"entries.jsonl: {key} is {found}, the manifest says {expected}")
    need(last_byte == b"\n", "entries.jsonl: the last line does not end with a newline")

    # 3. Every line: its JSON, its place in the chain, its hash and its payload.
    seen = dict.fromkeys(("entries", "payloads", "omitted", "disposed", "items", "verdicts"), 0)
    prev, disposed, named = GENESIS, {}, set()
    with open(path, "rb") as file:
        for number, raw in enumerate(file, start=1):
            where = f"entries.jsonl line {number}"
            try:
                line = strict_json(raw.decode("utf-8"))
            except ValueError as err:
                raise Problem(f"{where}: not a JSON line ({err})") from None
            need(isinstance(line, dict) and set(line) == LINE_KEYS, f"{where}: expected the keys {sorted(LINE_KEYS)}")
            seq = get(line, "seq", int, where)
            need(seq == number, f"{where}: holds entry {seq}, expected entry {number} (entries missing or moved)")
            where = f"entries.jsonl line {number} (entry {seq})"
            kind, state = get(line, "kind", str, where), get(line, "state", str, where)
            need(kind in KINDS, f"{where}: unknown kind `{kind}`")
            need(state in STATES, f"{where}: unknown state `{state}`")
            recorded_at = get(line, "recorded_at", str, where, "time")
            need(get(line, "prev", str, where, "hex") == prev, f"{where}: `prev` is not the hash of entry {seq - 1}")
            payload_sha256 = get(line, "payload_sha256", str, where, "hex")
            stored = get(line, "hash", str, where, "hex")
            need(entry_hash(seq, kind, recorded_at, prev, payload_sha256) == stored,
                 f"{where}: stored hash does not match the entry's contents")
            payload = line["payload"]
            if state == "present":
                need(isinstance(payload, dict), f"{where}: a present payload must be a JSON object")
                try:
                    actual = hashlib.sha256(canonical(payload)).hexdigest()
                except UnicodeEncodeError:
                    raise Problem(f"{where}: payload holds an unpaired surrogate") from None
                need(actual == payload_sha256, f"{where}: payload does not match its SHA-256 (content altered)")
                seen["payloads"] += 1
            else:
                need(payload is None, f"{where}: the entry is {state}, so its payload must be null")
                need(kind != "disposition", f"{where}: a disposition entry's payload must always be present")
                seen[state] += 1
                if state == "disposed":
                    disposed[seq] = payload_sha256
            if kind == "disposition":  # it accounts for earlier entries, each named with its payload hash
                targets = payload.get("entries")
                for target in targets if isinstance(targets, list) else []:
                    if isinstance(target, dict) and type(target.get("seq")) is int and target["seq"] < seq:
                        named.add((target["seq"], str(target.get("payload_sha256")).lower()))
            prev = stored
            seen["entries"] += 1
            seen["items"] += kind == "item"
            seen["verdicts"] += kind == "verdict"

    # 4. Every disposed payload is accounted for by a later disposition entry.
    unaccounted = sorted(seq for seq, payload_sha256 in disposed.items() if (seq, payload_sha256) not in named)
    if unaccounted:
        seq = unaccounted[0]
        raise Problem(f"entries.jsonl line {seq} (entry {seq}): payload disposed, but no later disposition entry "
                      "names it with its payload SHA-256")

    # 5. The counts.
    for key, value in seen.items():
        need(counts.get(key) == value, f"manifest.json: counts.{key} is {counts.get(key)!r}, the bundle holds {value}")

    # 6. The chain: complete from entry 1 and ending at the manifest's head.
    where, last = "manifest.json chain", seen["entries"]
    need(last > 0, "entries.jsonl: no entries")
    need(get(chain, "first", int, where) == 1, f"{where}: `first` must be 1")
    need(get(chain, "last", int, where) == last, f"{where}: `last` is {chain['last']}, the bundle ends at entry {last}")
    need(get(chain, "head", str, where, "hex") == prev, f"{where}: `head` differs from the hash of entry {last}")

    # 7. The checkpoint: the chain's head, signed by the trusted key.
    where = "manifest.json checkpoint"
    checkpoint_seq = get(checkpoint, "seq", int, where)
    need(checkpoint_seq == last, f"{where}: signs entry {checkpoint_seq}, but the bundle ends at entry {last}")
    head, signed_at = get(checkpoint, "head", str, where, "hex"), get(checkpoint, "signed_at", str, where, "time")
    need(head == prev, f"{where}: signed head differs from the hash of entry {checkpoint_seq}")
    if trusted_key is not None:
        need(public_hex == trusted_key.strip().lower(),
             f"manifest.json: public key {public_hex} is not the trusted key {trusted_key}")
    public = bytes.fromhex(public_hex)
    key_id = get(checkpoint, "key_id", str, where, "key_id")
    need(key_id == hashlib.sha256(public).hexdigest()[:16], f"{where}: key_id {key_id} is not the public key's id")
    signature = bytes.fromhex(get(checkpoint, "signature", str, where, "signature"))
    need(ed25519_verify(public, checkpoint_message(checkpoint_seq, head, signed_at), signature),
         f"{where}: Ed25519 signature does not verify")
    return last, prev


# RFC 8032, section 7.1, TEST 1 to TEST 3: secret key, public key, message, signature.
RFC8032_VECTORS = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
     "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
]


def self_test():
    need(point_equal(point_mul(L, BASE), IDENTITY), "self-test: [L]B is not the identity")
    for number, (secret, public, message, signature) in enumerate(RFC8032_VECTORS, start=1):
        public, message, signature = bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature)
        need(ed25519_public(bytes.fromhex(secret)) == public, f"self-test: TEST {number} public key")
        need(ed25519_verify(public, message, signature), f"self-test: TEST {number} signature")
        need(not ed25519_verify(public, message + b"x", signature), f"self-test: TEST {number} other message")
        for bit in (0, 255, 256, 511):
            flipped = bytearray(signature)
            flipped[bit // 8] ^= 1 << (bit % 8)
            need(not ed25519_verify(public, message, bytes(flipped)), f"self-test: TEST {number} bit {bit}")
    need(canonical({"b": [1, -2], "a": "é\u0001\n\"\\"}) == '{"a":"é\\u0001\\n\\"\\\\","b":[1,-2]}'.encode(),
         "self-test: canonical JSON")
    # The worked example of docs/archive-format.md.
    example = entry_hash(1, "item", "2026-03-01T09:30:01.250000Z", GENESIS,
                         "19c823202333a722066d6ade80ecbde60b41fc2b62153473f4233b9c8cdbf278")
    need(example == "134d5e35d656cc268b35f97c6eb49f74cba274ea9f88b8df181c6524c313dc3e", "self-test: entry hash")
    return "self-test passed (RFC 8032 section 7.1 TEST 1 to 3, canonical JSON, entry hash)"


def main():
    parser = argparse.ArgumentParser(description="Verify a Lifeguard archive export bundle.")
    parser.add_argument("directory", nargs="?", help="the bundle's directory")
    parser.add_argument("--public-key", help="the archive's public key you trust (64 hex digits)")
    parser.add_argument("--self-test", action="store_true", help="check this verifier against known vectors")
    args = parser.parse_args()
    if not args.self_test and args.directory is None:
        parser.error("give the bundle's directory, or --self-test")
    try:
        if args.self_test:
            print(f"ok: {self_test()}")
        else:
            entries, head = verify(args.directory, args.public_key)
            print(f"ok: {entries} entries, head {head}")
    except Problem as problem:
        print(f"error: {problem}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
