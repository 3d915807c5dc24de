"""Sealing facts and verifying the seals.

A seal covers up to `batch_size` facts not sealed yet: their leaf hashes (SHA-256 of the
canonical encoding, see sources.py), the Merkle root over them, the hash of the previous
seal, and an Ed25519 signature over the seal's header. Sealers take turns on one lock
row; writers of facts never wait for it: a fact committed while a seal is being made is
simply sealed by the next one."""

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from functools import cache

from cryptography.exceptions import InvalidSignature
from django.db import connection, transaction
from django.utils import timezone

from learntrace.evidence import keys, merkle
from learntrace.evidence.canonical import ENTRY, GENESIS, seal_header, utc
from learntrace.evidence.models import Seal, SealChain, Verification
from learntrace.evidence.sources import SOURCES, encode, model, rows

CHUNK = 900  # ids per IN (...) clause: below SQLite's variable limit


def header(*, number: int, created_at: dt.datetime, fact_count: int, root: str, previous_hash: str,
           key_id: str) -> bytes:
    return seal_header(number=number, created_at=utc(created_at), fact_count=fact_count, root=root,
                       previous_hash=previous_hash, key_id=key_id)


def _chunks(ids):
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


@cache
def _plan(code: int) -> tuple[str, list]:
    """The SELECT of a source's digest columns, and each column's converters (as the ORM applies
    them): sealing and verifying read millions of rows, so they skip building querysets and models."""
    table = model(code)
    names = ["id", *SOURCES[code][1]]
    columns = []
    for name in names:
        field_ = table._meta.get_field(name)
        col = field_.get_col(table._meta.db_table)
        columns.append((name, col, tuple(connection.ops.get_db_converters(col)
                                          + field_.get_db_converters(connection))))
    quote = connection.ops.quote_name
    select = ", ".join(quote(col.target.column) for _name, col, _c in columns)
    return f"SELECT {select} FROM {quote(table._meta.db_table)}", columns


def _leaves(code: int, where: str, params) -> dict[int, bytes]:
    """{fact id: leaf hash} of the facts of `code` matching `where` (the same bytes as encode())."""
    sql, columns = _plan(code)
    found = {}
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} WHERE {where}", params)
        while batch := cursor.fetchmany(5000):
            for raw_row in batch:
                row = {}
                for (name, col, converters), value in zip(columns, raw_row, strict=True):
                    for converter in converters:
                        value = converter(value, col, connection)
                    row[name] = value
                found[row["id"]] = merkle.leaf_hash(encode(code, row))
    return found


def _leaves_of(code: int, ids) -> dict[int, bytes]:
    found = {}
    for chunk in _chunks(list(ids)):
        found.update(_leaves(code, f"id IN ({', '.join(['%s'] * len(chunk))})", chunk))
    return found


def seal_pending(*, batch_size: int = 10_000, now: dt.datetime | None = None) -> list[Seal]:
    made = []
    while (seal := _seal_one(batch_size, now or timezone.now())) is not None:
        made.append(seal)
    return made


@transaction.atomic
def _seal_one(batch_size: int, now: dt.datetime) -> Seal | None:
    SealChain.objects.get_or_create(pk=1)
    SealChain.objects.select_for_update().get(pk=1)
    picked, room = {}, batch_size
    for code in SOURCES:
        ids = list(model(code).objects.filter(seal__isnull=True).order_by("id").values_list("id", flat=True)[:room])
        if ids:
            picked[code] = ids
            room -= len(ids)
        if room <= 0:
            break
    if not picked:
        return None
    entries = []
    for code, ids in picked.items():
        leaves = _leaves_of(code, ids)
        entries += [(code, fact_id, leaves[fact_id]) for fact_id in ids]
    previous = Seal.objects.order_by("-number").first()
    public = keys.public_key()
    seal = Seal(number=previous.number + 1 if previous else 1, created_at=now, fact_count=len(entries),
                root=merkle.root([leaf for _c, _i, leaf in entries]).hex(),
                previous_hash=previous.seal_hash if previous else GENESIS, key_id=keys.key_id(public),
                leaves=b"".join(ENTRY.pack(code, fact_id, leaf) for code, fact_id, leaf in entries))
    seal.seal_hash = hashlib.sha256(header(number=seal.number, created_at=now, fact_count=seal.fact_count,
                                           root=seal.root, previous_hash=seal.previous_hash,
                                           key_id=seal.key_id)).hexdigest()
    seal.signature = base64.b64encode(keys.private_key().sign(bytes.fromhex(seal.seal_hash))).decode()
    seal.save()
    for code, ids in picked.items():
        for chunk in _chunks(ids):
            model(code).objects.filter(id__in=chunk, seal__isnull=True).update(seal=seal)
    return seal


def entries_of(seal: Seal) -> list[tuple[int, int, bytes]]:
    data = bytes(seal.leaves)
    return [ENTRY.unpack_from(data, offset) for offset in range(0, len(data), ENTRY.size)]


# ---------------------------------------------------------------- verification


@dataclass
class Problem:
    kind: str  # modified, removed, inserted, seal_changed, broken_chain, bad_signature, other_key, leaves_changed
    seal: int | None = None
    source: str = ""
    fact_id: int | None = None
    detail: str = ""

    def __str__(self):
        where = f"seal {self.seal}" if self.seal is not None else ""
        fact = f" {self.source} #{self.fact_id}" if self.fact_id is not None else ""
        return f"{self.kind}: {where}{fact} {self.detail}".strip()


@dataclass
class Report:
    seals: int = 0
    facts: int = 0
    problems: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_seal(seal: Seal, previous_hash: str, public) -> list[Problem]:
    problems = []
    expected_hash = hashlib.sha256(header(number=seal.number, created_at=seal.created_at,
                                          fact_count=seal.fact_count, root=seal.root,
                                          previous_hash=seal.previous_hash, key_id=seal.key_id)).hexdigest()
    if expected_hash != seal.seal_hash:
        problems.append(Problem("seal_changed", seal.number, detail="its header does not match its hash"))
    if seal.previous_hash != previous_hash:
        problems.append(Problem("broken_chain", seal.number, detail="it does not point at the seal before it"))
    if seal.key_id != keys.key_id(public):
        problems.append(Problem("other_key", seal.number, detail="signed with another key"))
    try:
        public.verify(base64.b64decode(seal.signature), bytes.fromhex(seal.seal_hash))
    except (InvalidSignature, ValueError):
        problems.append(Problem("bad_signature", seal.number, detail="the signature does not verify"))
    entries = entries_of(seal)
    if len(entries) != seal.fact_count or merkle.root([leaf for _c, _i, leaf in entries]).hex() != seal.root:
        problems.append(Problem("leaves_changed", seal.number, detail="its list of facts does not match its root"))
    return problems


def verify(*, public=None, workers: int = 1) -> Report:
    """Recompute every seal and every sealed fact; report precisely what does not match.
    With workers > 1 (PostgreSQL), seals are checked by that many processes in parallel."""
    public_pem = keys.public_pem(public or keys.public_key())
    chain = list(Seal.objects.order_by("number").values_list("number", "seal_hash"))
    previous = {number: (chain[i - 1][1] if i else GENESIS) for i, (number, _hash) in enumerate(chain)}
    jobs = [[(number, previous[number]) for number, _hash in chain[i::workers]] for i in range(max(workers, 1))]
    if workers > 1 and connection.vendor == "postgresql" and len(chain) > 1:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        from django.db import connections

        connections.close_all()  # each process opens its own connection
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
            parts = list(pool.map(_verify_seals, jobs, [public_pem] * len(jobs)))
    else:
        parts = [_verify_seals([job for part in jobs for job in part], public_pem)]
    report = Report()
    for part in parts:
        report.seals += part.seals
        report.facts += part.facts
        report.problems += part.problems
    report.problems.sort(key=lambda p: (p.seal or 0, p.source, p.fact_id or 0, p.kind))
    return report


def _verify_seals(jobs: list[tuple[int, str]], public_pem: bytes) -> Report:
    from learntrace.evidence.sources import NAMES

    public = keys.load_public_pem(public_pem)
    report = Report()
    for number, previous_hash in sorted(jobs):
        seal = Seal.objects.get(number=number)
        report.seals += 1
        report.problems += _check_seal(seal, previous_hash, public)
        expected = {}
        for code, fact_id, leaf in entries_of(seal):
            expected.setdefault(code, {})[fact_id] = leaf
        for code in SOURCES:
            actual = _leaves(code, "seal_id = %s", [seal.pk])
            wanted = expected.get(code, {})
            report.facts += len(wanted)
            for fact_id, leaf in wanted.items():
                if fact_id not in actual:
                    report.problems.append(Problem("removed", seal.number, NAMES[code], fact_id,
                                                   "a sealed fact is missing"))
                elif actual[fact_id] != leaf:
                    report.problems.append(Problem("modified", seal.number, NAMES[code], fact_id,
                                                   "a sealed fact was changed"))
            for fact_id in actual.keys() - wanted.keys():
                report.problems.append(Problem("inserted", seal.number, NAMES[code], fact_id,
                                               "a fact claims this seal but was not sealed in it"))
    return report


def prove(code: int, fact_id: int) -> dict | None:
    """The inclusion proof of one fact: its seal, its leaf and the path to the seal's root."""
    fact = model(code).objects.filter(pk=fact_id).select_related("seal").first()
    if fact is None or fact.seal is None:
        return None
    entries = entries_of(fact.seal)
    index = next((i for i, (c, i_d, _leaf) in enumerate(entries) if c == code and i_d == fact_id), None)
    if index is None:
        return None
    leaves = [leaf for _c, _i, leaf in entries]
    return {"seal": fact.seal.number, "index": index, "leaf": leaves[index].hex(),
            "proof": [[side, sibling.hex()] for side, sibling in merkle.inclusion_proof(leaves, index)],
            "root": fact.seal.root}


def verify_fact(code: int, fact_id: int) -> bool:
    """The fact as it is now hashes to the leaf that its seal's root includes."""
    proof = prove(code, fact_id)
    if proof is None:
        return False
    row = rows(code, model(code).objects.filter(pk=fact_id)).first()
    leaf = merkle.leaf_hash(encode(code, row))
    steps = [(side, bytes.fromhex(sibling)) for side, sibling in proof["proof"]]
    return leaf.hex() == proof["leaf"] and merkle.verify_inclusion(leaf, steps, bytes.fromhex(proof["root"]))


def record_verification(report: Report, started_at: dt.datetime) -> Verification:
    return Verification.objects.create(started_at=started_at, finished_at=timezone.now(), ok=report.ok,
                                       seals=report.seals, facts=report.facts,
                                       problems=[str(p) for p in report.problems[:1000]])
