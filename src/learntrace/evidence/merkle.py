"""The Merkle tree of a seal, as in RFC 6962 (Certificate Transparency): leaves and inner
nodes are hashed with different prefixes, and a tree of n leaves splits at the largest
power of two below n. Plain functions on bytes, so the offline verifier can use them too."""

import hashlib


def leaf_hash(encoding: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + encoding).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaves: list[bytes]) -> bytes:
    """Root of the tree over leaf hashes. Pairing level by level and carrying an odd last node
    up unchanged gives the same root as RFC 6962's split at the largest power of two."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    sha256, level = hashlib.sha256, list(leaves)
    while len(level) > 1:
        pairs = iter(level)  # inlined node_hash: millions of nodes when verifying
        paired = [sha256(b"\x01" + left + right).digest() for left, right in zip(pairs, pairs, strict=False)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def inclusion_proof(leaves: list[bytes], index: int) -> list[tuple[str, bytes]]:
    """The sibling hashes from leaf `index` up to the root, each with its side ("L" or "R")."""
    proof, level, position = [], list(leaves), index
    while len(level) > 1:
        sibling = position ^ 1
        if sibling < len(level):
            proof.append(("L" if sibling < position else "R", level[sibling]))
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level, position = paired, position // 2
    return proof


def verify_inclusion(leaf: bytes, proof: list[tuple[str, bytes]], expected_root: bytes) -> bool:
    value = leaf
    for side, sibling in proof:
        value = node_hash(sibling, value) if side == "L" else node_hash(value, sibling)
    return value == expected_root
