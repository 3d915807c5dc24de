"""Verifying an evidence bundle without learntrace's server or database.

    python -m learntrace.evidence.offline bundle.json --public-key key.pem

(or `learntrace verify_bundle …`). Needs only Python and the `cryptography` package.
Exit status 0 when everything verifies, 1 when something does not, 2 when the bundle or
the key cannot be read. The public key is required and is the one the auditor obtained
from the organisation: the key inside the bundle only proves that the bundle is
consistent, not who made it, so it is never used in its place."""

import argparse
import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from learntrace.evidence import merkle
from learntrace.evidence.canonical import GENESIS, fact_bytes, fact_texts_bytes, fields, seal_header

FORMATS = {"learntrace-evidence-bundle/1", "learntrace-evidence-bundle/2"}


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


def verify_bundle(bundle: dict, public_pem: bytes) -> list[str]:
    """The problems of a bundle checked against the auditor's public key (never the bundle's own)."""
    public = load_public_key(public_pem)
    problems = []
    if bundle.get("format") not in FORMATS:
        return ["not a learntrace evidence bundle (format)"]
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id = hashlib.sha256(raw).hexdigest()
    if bundle.get("key_id", key_id) != key_id:
        problems.append("the bundle names another signing key than the one given")
    seals, previous_hash = {}, GENESIS
    for seal in sorted(bundle["seals"], key=lambda s: s["number"]):
        computed = hashlib.sha256(seal_header(
            number=seal["number"], created_at=seal["created_at"], fact_count=seal["fact_count"], root=seal["root"],
            previous_hash=seal["previous_hash"], key_id=seal["key_id"], encoding=seal.get("encoding", 1),
            drained=seal.get("drained", False))).hexdigest()
        if computed != seal["seal_hash"]:
            problems.append(f"seal {seal['number']}: its header does not match its hash")
        if seal["previous_hash"] != previous_hash:
            problems.append(f"seal {seal['number']}: the chain is broken before it")
        if seal["key_id"] != key_id:
            problems.append(f"seal {seal['number']}: signed with another key than the one given")
        try:
            public.verify(base64.b64decode(seal["signature"]), bytes.fromhex(seal["seal_hash"]))
        except (InvalidSignature, ValueError):
            problems.append(f"seal {seal['number']}: the signature does not verify")
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
    parser = argparse.ArgumentParser(description="Verify a learntrace evidence bundle offline.")
    parser.add_argument("bundle")
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
            bundle = json.loads(handle.read())
        problems = verify_bundle(bundle, public_pem)
    except (OSError, ValueError, KeyError, TypeError) as exc:
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


if __name__ == "__main__":
    sys.exit(main())
