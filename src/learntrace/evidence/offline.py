"""Verifying an evidence bundle, or an archive of beats, without learntrace's server or database.

    python -m learntrace.evidence.offline bundle.json --public-key key.pem
    python -m learntrace.evidence.offline archive-2026-01.jsonl.gz --public-key key.pem

(or `learntrace verify_bundle …`). Needs only Python and the `cryptography` package.
Exit status 0 when everything verifies, 1 when something does not, 2 when the bundle or
the key cannot be read. The public key is required and is the one the auditor obtained
from the organisation: the key inside the bundle only proves that the bundle is
consistent, not who made it, so it is never used in its place."""

import argparse
import base64
import gzip
import hashlib
import json
import struct
import sys
import zlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from learntrace.evidence import merkle
from learntrace.evidence.canonical import ENTRY, GENESIS, fact_bytes, fact_texts_bytes, fields, seal_header

# /3: a bundle whose chain holds an archive's link (a header with `archive`), which older verifiers
# cannot hash: they say "format" rather than "changed".
FORMATS = {"learntrace-evidence-bundle/1", "learntrace-evidence-bundle/2", "learntrace-evidence-bundle/3"}
ARCHIVE_FORMAT = "learntrace-archive/1"
ARCHIVED_SOURCES = {"creditedtime": 1}  # the source an archive holds: its code in the seals' lists


def encoding_of(fact: dict, encoding: int) -> bytes:
    """The canonical bytes of a fact as the bundle gives it, in its seal's encoding."""
    if encoding == 1:
        return fact_bytes(fact)
    if encoding in (2, 3):
        given = fact["fields"]
        names = fields(fact["source"], encoding)
        return fact_texts_bytes([fact["source"], fact["id"], *[given[name] for name in names]])
    raise ValueError(f"unknown encoding {encoding}")


class PublicKeyError(ValueError):
    """The auditor's public key is missing, empty or not an Ed25519 public key in PEM."""


def load_public_key(public_pem: bytes | None) -> Ed25519PublicKey:
    if public_pem is None or not public_pem.strip():
        raise PublicKeyError("it is empty")
    try:
        public = serialization.load_pem_public_key(public_pem)
    except (ValueError, TypeError) as exc:
        raise PublicKeyError("it is not a PEM public key") from exc
    if not isinstance(public, Ed25519PublicKey):
        raise PublicKeyError("it is not an Ed25519 public key")
    return public


def _seal_problems(seal: dict, previous_hash: str | None, public: Ed25519PublicKey, key_id: str) -> list[str]:
    """A seal header's hash, chain link (unless previous_hash is None) and signature."""
    problems = []
    computed = hashlib.sha256(seal_header(
        number=seal["number"], created_at=seal["created_at"], fact_count=seal["fact_count"], root=seal["root"],
        previous_hash=seal["previous_hash"], key_id=seal["key_id"], encoding=seal.get("encoding", 1),
        drained=seal.get("drained", False), archive=seal.get("archive"))).hexdigest()
    if computed != seal["seal_hash"]:
        problems.append(f"seal {seal['number']}: its header does not match its hash")
    if previous_hash is not None and seal["previous_hash"] != previous_hash:
        problems.append(f"seal {seal['number']}: the chain is broken before it")
    if seal["key_id"] != key_id:
        problems.append(f"seal {seal['number']}: signed with another key than the one given")
    try:
        public.verify(base64.b64decode(seal["signature"]), bytes.fromhex(seal["seal_hash"]))
    except (InvalidSignature, ValueError):
        problems.append(f"seal {seal['number']}: the signature does not verify")
    return problems


def _key_id(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).hexdigest()


def verify_archive(lines, public_pem: bytes) -> tuple[list[str], dict]:
    """(problems, summary) of an archive of beats (records/archive.py), read line by line: every
    seal's header, chain link and signature against the auditor's public key, its list of facts
    against its root, and every fact of the archived source that it lists (all but the kept ones)
    present once and hashing to its entry. The summary gives what to compare with the archive's
    link in the chain: its seals, beats, the digest of the kept ids and, from the caller, the file's."""
    public = load_public_key(public_pem)
    key_id = _key_id(public)
    lines = iter(lines)
    head = json.loads(next(lines, "{}"))
    if head.get("format") != ARCHIVE_FORMAT:
        return ["not a learntrace archive (format)"], {}
    code = ARCHIVED_SOURCES.get(head.get("source"))
    if code is None:
        return [f"unknown archived source {head.get('source')!r}"], {}
    problems, kept, facts, numbers = [], [], 0, []
    seal, leaves, waiting, previous_hash = None, {}, set(), None

    def close(seal, waiting):
        if seal is not None and waiting:
            problems.append(f"seal {seal['number']}: {len(waiting)} of its archived facts are not in the file "
                            f"(first: {head['source']} #{min(waiting)})")

    for text in lines:
        item = json.loads(text)
        if "fact" not in item and "texts" not in item:  # a seal
            close(seal, waiting)
            seal = item["seal"]
            numbers.append(seal["number"])
            problems += _seal_problems(seal, previous_hash, public, key_id)
            previous_hash = seal["seal_hash"]
            data = bytes.fromhex(seal["leaves"])
            entries = list(ENTRY.iter_unpack(data)) if len(data) % ENTRY.size == 0 else []
            if (len(data) % ENTRY.size or len(entries) != seal["fact_count"]
                    or merkle.root([leaf for _c, _i, leaf in entries]).hex() != seal["root"]):
                problems.append(f"seal {seal['number']}: its list of facts does not match its root")
            leaves = {fact_id: leaf for source, fact_id, leaf in entries if source == code}
            kept += item["kept"]
            waiting = set(leaves) - set(item["kept"])
            continue
        if "texts" in item:  # encodings 2 and 3: the texts that were hashed
            texts = item["texts"]
            label, fact_id = f"{texts[0]} #{texts[1]}", int(texts[1])
            encoded = fact_texts_bytes(texts) if texts[0] == head["source"] else None
        else:  # encoding 1: the plain values
            fact = item["fact"]
            label, fact_id = f"{fact.get('source')} #{fact.get('id')}", int(fact["id"])
            encoded = encoding_of(fact, 1)
        if seal is None or item["seal"] != seal["number"]:
            problems.append(f"{label}: not after its seal {item['seal']}")
            continue
        if fact_id not in waiting:
            problems.append(f"{label}: not an archived fact of seal {seal['number']}, or in the file twice")
            continue
        waiting.discard(fact_id)
        facts += 1
        if encoded is None or merkle.leaf_hash(encoded) != leaves[fact_id]:
            problems.append(f"{label}: does not hash to its entry in seal {seal['number']} (changed?)")
    close(seal, waiting)
    if numbers != list(range(head.get("first_seal", 0), head.get("last_seal", -1) + 1)):
        problems.append(f"the file does not hold seals {head.get('first_seal')}–{head.get('last_seal')}, "
                        f"one after another")
    summary = {"first_seal": head.get("first_seal"), "last_seal": head.get("last_seal"), "facts": facts,
               "kept": len(kept),
               "kept_sha256": hashlib.sha256(b"".join(struct.pack(">q", i) for i in sorted(kept))).hexdigest()}
    return problems, summary


def verify_bundle(bundle: dict, public_pem: bytes) -> list[str]:
    """The problems of a bundle checked against the auditor's public key (never the bundle's own)."""
    public = load_public_key(public_pem)
    problems = []
    if bundle.get("format") not in FORMATS:
        return ["not a learntrace evidence bundle (format)"]
    key_id = _key_id(public)
    if bundle.get("key_id", key_id) != key_id:
        problems.append("the bundle names another signing key than the one given")
    seals, previous_hash = {}, GENESIS
    for seal in sorted(bundle["seals"], key=lambda s: s["number"]):
        problems += _seal_problems(seal, previous_hash, public, key_id)
        previous_hash = seal["seal_hash"]
        seals[seal["number"]] = seal
    for item in bundle["facts"]:
        fact = item["fact"]
        seal = seals.get(item["seal"])
        label = f"{fact.get('source')} #{fact.get('id')}"
        if seal is None:
            problems.append(f"{label}: its seal {item['seal']} is not in the bundle")
            continue
        try:
            leaf = merkle.leaf_hash(encoding_of(fact, seal.get("encoding", 1)))
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"{label}: cannot be encoded ({exc})")
            continue
        steps = [(side, bytes.fromhex(sibling)) for side, sibling in item["proof"]]
        if not merkle.verify_inclusion(leaf, steps, bytes.fromhex(seal["root"])):
            problems.append(f"{label}: not included in seal {item['seal']} as it stands (changed?)")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Verify a learntrace evidence bundle or archive offline.")
    parser.add_argument("bundle", help="an evidence bundle (.json) or an archive of beats (.jsonl.gz)")
    parser.add_argument("--chain", help="for an archive: an evidence bundle made after it, whose chain holds the "
                                        "archive's signed link to compare the file with")
    parser.add_argument("--public-key", required=True,
                        help="the organisation's public key (PEM), obtained independently")
    args = parser.parse_args(argv)
    try:
        with open(args.public_key, "rb") as handle:
            public_pem = handle.read()
        load_public_key(public_pem)
    except (OSError, PublicKeyError) as exc:
        print(f"cannot use the public key {args.public_key}: {exc.strerror if isinstance(exc, OSError) else exc}")
        return 2
    try:
        with open(args.bundle, "rb") as handle:
            gzipped = handle.read(2) == b"\x1f\x8b"
        if gzipped:
            return _main_archive(args.bundle, public_pem, args.chain)
        with open(args.bundle, "rb") as handle:
            bundle = json.loads(handle.read())
        problems = verify_bundle(bundle, public_pem)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        print(f"cannot read the bundle {args.bundle}: {exc}")
        return 2
    for problem in problems:
        print(problem)
    facts, seals = len(bundle["facts"]), len(bundle["seals"])
    print(f"{facts} facts in {seals} seals: " + ("verified" if not problems else f"{len(problems)} problem(s)"))
    if bundle.get("unsealed_facts"):
        print(f"{bundle['unsealed_facts']} facts were not sealed yet when the bundle was made: "
              f"they are not in it and not verified")
    return 0 if not problems else 1


def against_link(summary: dict, digest: str, chain: dict, public_pem: bytes) -> tuple[list[str], int | None]:
    """(problems, the link's number) of an archive's summary and file digest against its signed link,
    found in the chain of an evidence bundle (whose seal headers are checked against the key first)."""
    public = load_public_key(public_pem)
    key_id, problems, link, previous_hash = _key_id(public), [], None, GENESIS
    for seal in sorted(chain.get("seals", []), key=lambda s: s["number"]):
        problems += _seal_problems(seal, previous_hash, public, key_id)
        previous_hash = seal["seal_hash"]
        record = seal.get("archive")
        if isinstance(record, dict) and (record.get("first_seal"), record.get("last_seal")) == (
                summary["first_seal"], summary["last_seal"]):
            link = seal
    if link is None:
        return [*problems, f"the chain holds no link of an archive of seals "
                           f"{summary['first_seal']}–{summary['last_seal']}"], None
    record = link["archive"]
    for name, value in (("file_sha256", digest), ("facts", summary["facts"]), ("kept", summary["kept"]),
                        ("kept_sha256", summary["kept_sha256"])):
        if record.get(name) != value:
            problems.append(f"the file's {name} is {value}, its link #{link['number']} signed {record.get(name)}")
    return problems, link["number"]


def _main_archive(path: str, public_pem: bytes, chain_path: str | None = None) -> int:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            problems, summary = verify_archive(handle, public_pem)
        with open(path, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        link = None
        if chain_path and summary:
            with open(chain_path, "rb") as handle:
                linked, link = against_link(summary, digest, json.loads(handle.read()), public_pem)
            problems += linked
    except (OSError, EOFError, zlib.error, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        print(f"cannot read the archive {path}: {exc}")
        return 2
    for problem in problems:
        print(problem)
    if summary:
        print(f"{summary['facts']} archived facts of seals {summary['first_seal']}–{summary['last_seal']}: "
              + (f"{len(problems)} problem(s)" if problems else
                 f"verified against its link #{link} in the chain" if link else
                 "consistent, and signed seal by seal"))
        if not chain_path:
            print(f"not compared with its link in the seal chain: give --chain BUNDLE (any evidence bundle made "
                  f"after it), or compare by hand: file_sha256 {digest}, facts {summary['facts']}, "
                  f"kept {summary['kept']}, kept_sha256 {summary['kept_sha256']}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
