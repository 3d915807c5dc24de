"""Sealing facts and verifying the seals.

A seal covers up to `batch_size` facts not sealed yet: their leaf hashes (SHA-256 of the
canonical encoding, see sources.py), the Merkle root over them, the hash of the previous
seal, and an Ed25519 signature over the seal's header. The facts not sealed yet are the
queue `Pending` (filled by the database in the transaction that writes a fact, queue.py);
a seal deletes what it took from the queue and writes nothing to the fact rows, so a fact
is written once. Sealers take turns on one lock row; writers of facts never wait for it: a
fact committed while a seal is being made is simply sealed by the next one."""

import base64
import bisect
import datetime as dt
import hashlib
import json
import logging
import sys
import time
from array import array
from dataclasses import dataclass, field
from functools import cache

from cryptography.exceptions import InvalidSignature
from django.db import connection, transaction
from django.utils import timezone

from learntrace.core.audit import record_change
from learntrace.evidence import keys, merkle
from learntrace.evidence.canonical import ENCODING, ENTRY, GENESIS, fields, seal_header, utc
from learntrace.evidence.models import Pending, Seal, SealChain, SealSpan, Verification
from learntrace.evidence.sources import NAMES, RECORDED, SOURCES, encode, encoding_sql, model, rows, texts

logger = logging.getLogger(__name__)
CHUNK = 900  # ids per IN (...) clause: below SQLite's variable limit
# A fact is written (recorded_at set) and committed within this long: the check of the
# unsealed tail reports only what a sealer must have seen by then.
GRACE = dt.timedelta(minutes=10)


def header(*, number: int, created_at: dt.datetime, fact_count: int, root: str, previous_hash: str,
           key_id: str, encoding: int = 1, drained: bool = False, archive: dict | None = None) -> bytes:
    return seal_header(number=number, created_at=utc(created_at), fact_count=fact_count, root=root,
                       previous_hash=previous_hash, key_id=key_id, encoding=encoding, drained=drained,
                       archive=archive)


def _seal_hash(seal: Seal) -> str:
    return hashlib.sha256(header(number=seal.number, created_at=seal.created_at, fact_count=seal.fact_count,
                                 root=seal.root, previous_hash=seal.previous_hash, key_id=seal.key_id,
                                 encoding=seal.encoding, drained=seal.drained, archive=seal.archive)).hexdigest()


def id_chunks(ids: list[int]) -> list[list[int]]:
    """`ids` as the pieces one statement takes: whole on PostgreSQL (one array parameter), at most
    CHUNK at a time on SQLite (its limit of variables)."""
    if _in_sql():
        return [ids]
    return [ids[start:start + CHUNK] for start in range(0, len(ids), CHUNK)]


def _in_sql() -> bool:
    """PostgreSQL builds and hashes encodings 2 and 3 itself; SQLite leaves it to Python."""
    return connection.vendor == "postgresql"


@cache
def _plan(code: int, encoding: int) -> tuple[str, list]:
    """The SELECT of a source's digest columns in `encoding`, and each column's converters (as the
    ORM applies them): sealing and verifying read many rows, so they skip building querysets and models."""
    table = model(code)
    names = ["id", *fields(NAMES[code], encoding)]
    columns = []
    for name in names:
        field_ = table._meta.get_field(name)
        col = field_.get_col(table._meta.db_table)
        columns.append((name, col, tuple(connection.ops.get_db_converters(col)
                                          + field_.get_db_converters(connection))))
    quote = connection.ops.quote_name
    select = ", ".join(quote(col.target.column) for _name, col, _c in columns)
    return f"SELECT {select} FROM {quote(table._meta.db_table)}", columns


def _table(code: int) -> str:
    return connection.ops.quote_name(model(code)._meta.db_table)


def _leaves(code: int, where: str, params, *, encoding: int, tail: str = "") -> list[tuple[int, bytes]]:
    """[(fact id, leaf hash)] of the facts of `code` matching `where` (then `tail`: ORDER BY, LIMIT)."""
    if encoding >= 2 and _in_sql():
        with connection.cursor() as cursor:
            cursor.execute("SET extra_float_digits = 1")  # floats printed with their shortest exact digits
            cursor.execute(f"SELECT id, sha256('\\x00'::bytea || {encoding_sql(code, encoding)}) FROM {_table(code)} "
                           f"WHERE {where} {tail}", params)
            return [(fact_id, bytes(leaf)) for fact_id, leaf in cursor.fetchall()]
    sql, columns = _plan(code, encoding)
    found = []
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} WHERE {where} {tail}", params)
        while batch := cursor.fetchmany(5000):
            for raw_row in batch:
                row = {}
                for (name, col, converters), value in zip(columns, raw_row, strict=True):
                    for converter in converters:
                        value = converter(value, col, connection)
                    row[name] = value
                found.append((row["id"], merkle.leaf_hash(encode(code, row, encoding))))
    return found


def fact_texts(code: int, ids: list[int], encoding: int = ENCODING) -> dict[int, list]:
    """{fact id: texts of encoding 2 or 3} as the sealer hashed them (built by PostgreSQL on PostgreSQL)."""
    if _in_sql():
        with connection.cursor() as cursor:
            cursor.execute("SET extra_float_digits = 1")
            cursor.execute(f"SELECT id, convert_from({encoding_sql(code, encoding)}, 'UTF8') FROM {_table(code)} "
                           "WHERE id = ANY(%s)", [list(ids)])
            return {fact_id: json.loads(text) for fact_id, text in cursor.fetchall()}
    found = {}
    for chunk in id_chunks(list(ids)):
        found.update({row["id"]: texts(code, row, encoding)
                      for row in rows(code, model(code).objects.filter(id__in=chunk))})
    return found


def seal_pending(*, batch_size: int = 10_000, now: dt.datetime | None = None, via: str = "worker") -> list[Seal]:
    """Seal every fact not sealed yet. What was sealed, and by whom (`via`: the worker, the
    `seal` command, the demo loader, …), goes to the audit trail and the log."""
    made = []
    while (seal := _seal_one(batch_size, now or timezone.now())) is not None:
        made.append(seal)
    if made:
        facts = sum(seal.fact_count for seal in made)
        numbers = f"#{made[0].number}" + (f"–#{made[-1].number}" if len(made) > 1 else "")
        record_change(actor=None, action="seal", object_type="seal", object_id=str(made[-1].number),
                      summary=f"{via}: {facts} facts in seal {numbers}")
        logger.info("sealed %s facts in seal %s (%s)", facts, numbers, via)
    return made


def unsealed_count() -> int:
    """Facts that no seal covers yet (the next seal takes them)."""
    return Pending.objects.count()


def unsealed_ids(code: int, ids: list[int]) -> set[int]:
    """Those of `ids` (facts of `code`) that wait for a seal."""
    return set(Pending.objects.filter(source=code, fact_id__in=ids).values_list("fact_id", flat=True))


def ids_sql(column: str, ids: list[int]) -> tuple[str, list]:
    """`column` in `ids`: one array parameter on PostgreSQL, a list of them on SQLite (a chunk of
    at most CHUNK ids)."""
    if _in_sql():
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _leaves_of(code: int, ids: list[int], encoding: int) -> list[tuple[int, bytes]]:
    """[(fact id, leaf hash)] of the facts of `code` among `ids` that exist, in id order."""
    found = []
    for chunk in id_chunks(ids):
        where, params = ids_sql("id", chunk)
        found += _leaves(code, where, params, encoding=encoding, tail="ORDER BY id")
    return found  # the chunks in id order, each in id order


def _dequeue(queued: dict[int, list[int]]) -> None:
    with connection.cursor() as cursor:
        for code, ids in queued.items():
            for chunk in id_chunks(ids):
                where, params = ids_sql("fact_id", chunk)
                cursor.execute(f"DELETE FROM evidence_pending WHERE source = %s AND {where}", [code, *params])


@transaction.atomic
def _seal_one(batch_size: int, now: dt.datetime) -> Seal | None:
    """One seal over the queue's lowest (source, id) pairs; None when the queue is empty."""
    SealChain.objects.get_or_create(pk=1)
    SealChain.objects.select_for_update().get(pk=1)
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT source, fact_id FROM evidence_pending ORDER BY source, fact_id LIMIT %s",
                           [batch_size])
            rows_ = cursor.fetchall()
        if not rows_:
            return None
        queued: dict[int, list[int]] = {}
        for code, fact_id in rows_:
            queued.setdefault(code, []).append(fact_id)
        # A queued id whose row is gone (a fact deleted before it was sealed) is only dropped.
        picked = {code: found for code, ids in queued.items() if code in SOURCES
                  if (found := _leaves_of(code, ids, ENCODING))}
        if picked:
            break
        _dequeue(queued)
    entries = [(code, fact_id, leaf) for code, found in picked.items() for fact_id, leaf in found]
    seal = signed_seal(entries=entries, now=now, drained=len(rows_) < batch_size)  # drained: took the whole queue
    SealSpan.objects.bulk_create([SealSpan(seal=seal, source=code, first_id=found[0][0], last_id=found[-1][0])
                                  for code, found in picked.items()])
    _dequeue(queued)
    return seal


def signed_seal(*, entries: list[tuple[int, int, bytes]], now: dt.datetime, drained: bool,
                archive: dict | None = None, kept: bytes = b"", save: bool = True) -> Seal:
    """The next seal of the chain over `entries` (source, fact id, leaf), signed and saved (unless
    `save` is false); or, with `archive`, the link that records an archive (records/archive.py)."""
    previous = Seal.objects.order_by("-number").only("number", "seal_hash").first()
    public = keys.public_key()
    seal = Seal(number=previous.number + 1 if previous else 1, created_at=now, fact_count=len(entries),
                root=merkle.root([leaf for _c, _i, leaf in entries]).hex(),
                previous_hash=previous.seal_hash if previous else GENESIS, key_id=keys.key_id(public),
                leaves=b"".join(ENTRY.pack(code, fact_id, leaf) for code, fact_id, leaf in entries),
                encoding=ENCODING, drained=drained, archive=archive, kept=kept)
    seal.seal_hash = _seal_hash(seal)
    seal.signature = base64.b64encode(keys.private_key().sign(bytes.fromhex(seal.seal_hash))).decode()
    if save:
        seal.save()
    return seal


def entries_of(seal: Seal) -> list[tuple[int, int, bytes]]:
    return list(ENTRY.iter_unpack(bytes(seal.leaves))) if len(seal.leaves) % ENTRY.size == 0 else []


def listed_ids(seal: Seal) -> dict[int, list[int]]:
    """{source: [ids]} that the seal lists, in its order."""
    listed: dict[int, list[int]] = {}
    for code, fact_id, _leaf in entries_of(seal):
        listed.setdefault(code, []).append(fact_id)
    return listed


def locate(code: int, ids) -> dict[int, tuple[Seal, int]]:
    """{fact id: (its seal, its index in the seal's list)} for the facts of `code` among `ids` that
    a seal lists. Each seal keeps its id span per source; spans overlap only where a fact was
    committed late, so the candidates of an id are few."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    spans = sorted(SealSpan.objects.filter(source=code, last_id__gte=ids[0], first_id__lte=ids[-1])
                   .values_list("first_id", "last_id", "seal_id"))
    firsts = [first for first, _last, _seal in spans]
    reach, highest = [], None  # the highest last_id among the spans up to each one
    for _first, last, _seal in spans:
        highest = last if highest is None else max(highest, last)
        reach.append(highest)
    seals, positions, found = {}, {}, {}
    for fact_id in ids:
        index = bisect.bisect_right(firsts, fact_id) - 1
        while index >= 0 and reach[index] >= fact_id:
            _first, last, seal_id = spans[index]
            index -= 1
            if last < fact_id:
                continue
            if seal_id not in seals:
                seals[seal_id] = Seal.objects.get(pk=seal_id)
                positions[seal_id] = {(c, i): n for n, (c, i, _leaf) in enumerate(entries_of(seals[seal_id]))}
            if (position := positions[seal_id].get((code, fact_id))) is not None:
                found[fact_id] = (seals[seal_id], position)
                break
    return found


def seal_of(code: int, fact_id: int) -> Seal | None:
    """The seal that lists a fact (None: not sealed yet, or listed by none)."""
    found = locate(code, [fact_id]).get(fact_id)
    return found[0] if found else None


# ---------------------------------------------------------------- verification


@dataclass
class Problem:
    # modified, removed, inserted (a sealed range); slipped_in, backdated (the unsealed tail);
    # seal_changed, broken_chain, bad_signature, other_key, leaves_changed (a seal)
    kind: str
    seal: int | None = None
    source: str = ""
    fact_id: int | None = None
    detail: str = ""

    def __str__(self):
        where = [f"seal {self.seal}"] if self.seal is not None else []
        where += [f"{self.source} #{self.fact_id}"] if self.fact_id is not None else []
        return f"{self.kind}: {' '.join([*where, self.detail])}".strip()


@dataclass
class Report:
    seals: int = 0
    facts: int = 0
    problems: list = field(default_factory=list)
    unsealed: int = 0  # facts no seal covers yet: not a problem, but not evidence either
    archived: int = 0  # sealed facts that an archive took out of the database (records/archive.py)
    listed: dict = field(default_factory=dict)  # per source, the facts the seals list that were found
    # per seal: (number, created_at, drained, {source code: highest fact id listed}), for the tail
    reach: list = field(default_factory=list)
    # seconds spent on: the seals (headers, signatures, roots), their facts, the unsealed tail
    timings: dict = field(default_factory=lambda: {"seals": 0.0, "facts": 0.0, "tail": 0.0})

    @property
    def ok(self) -> bool:
        return not self.problems


def archive_of(seal: Seal) -> dict | None:
    """A link's record of its archive when it has the form an archive writes (records/archive.py)."""
    record = seal.archive
    if isinstance(record, dict) and all(isinstance(record.get(name), int) and not isinstance(record.get(name), bool)
                                        for name in ("first_seal", "last_seal", "facts", "kept")) \
            and all(isinstance(record.get(name), str) for name in ("source", "kept_sha256", "file_sha256")):
        return record
    return None


def check_seal(seal: Seal, previous_hash: str | None, public) -> list[Problem]:
    """What is wrong with a seal itself: its hash, its link to `previous_hash` (unless None), its
    signature, its list of facts against its root, and a link's record of its archive."""
    problems = []
    if _seal_hash(seal) != seal.seal_hash:
        problems.append(Problem("seal_changed", seal.number, detail="its header does not match its hash"))
    if previous_hash is not None and seal.previous_hash != previous_hash:
        problems.append(Problem("broken_chain", seal.number, detail="it does not point at the seal before it"))
    if seal.key_id != keys.key_id(public):
        problems.append(Problem("other_key", seal.number, detail="signed with another key"))
    try:
        public.verify(base64.b64decode(seal.signature), bytes.fromhex(seal.seal_hash))
    except (InvalidSignature, ValueError):
        problems.append(Problem("bad_signature", seal.number, detail="the signature does not verify"))
    if seal.archive is not None and (archive_of(seal) is None
                                     or hashlib.sha256(bytes(seal.kept)).hexdigest() != seal.archive["kept_sha256"]):
        problems.append(Problem("seal_changed", seal.number,
                                detail="its record of an archive, or its list of the facts kept, was changed"))
    data = bytes(seal.leaves)
    leaves = [data[offset + 9:offset + ENTRY.size] for offset in range(0, len(data), ENTRY.size)]
    if (len(data) % ENTRY.size or len(leaves) != seal.fact_count
            or merkle.root(leaves).hex() != seal.root):
        problems.append(Problem("leaves_changed", seal.number, detail="its list of facts does not match its root"))
    return problems


def verify(*, public=None, workers: int = 1) -> Report:
    """Recompute every seal and every sealed fact, then look at the unsealed tail; report
    precisely what does not match. With workers > 1 (PostgreSQL), seals are checked over that
    many connections at once (each a PostgreSQL process hashing its facts)."""
    public_pem = keys.public_pem(public or keys.public_key())
    archived = archived_seals(keys.load_public_pem(public_pem))
    chain = list(Seal.objects.order_by("number").values_list("number", "seal_hash"))
    previous = {number: (chain[i - 1][1] if i else GENESIS) for i, (number, _hash) in enumerate(chain)}
    jobs = [[(number, previous[number]) for number, _hash in chain[i::workers]] for i in range(max(workers, 1))]
    # Other connections see only committed rows: inside a transaction (a caller's, a test's)
    # the seals are checked on this one.
    if workers > 1 and _in_sql() and len(chain) > 1 and not connection.in_atomic_block:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(_verify_seals_on_own_connection, jobs, [public_pem] * len(jobs),
                                  [archived] * len(jobs)))
    else:
        parts = [_verify_seals([job for part in jobs for job in part], public_pem, archived)]
    report = Report()
    for part in parts:
        report.seals += part.seals
        report.facts += part.facts
        report.problems += part.problems
        report.archived += part.archived
        report.reach += part.reach
        for code, count in part.listed.items():
            report.listed[code] = report.listed.get(code, 0) + count
        for phase, seconds in part.timings.items():
            report.timings[phase] += seconds
    started = time.perf_counter()
    report.problems += check_unlisted(report.listed)
    report.problems += check_tail(report.reach)
    report.timings["tail"] += time.perf_counter() - started
    report.problems.sort(key=lambda p: (p.seal is None, p.seal or 0, p.source, p.fact_id or 0, p.kind))
    report.unsealed = unsealed_count()
    return report


def _verify_seals_on_own_connection(jobs, public_pem: bytes, archived: dict) -> Report:
    try:
        return _verify_seals(jobs, public_pem, archived)
    finally:
        connection.close()  # this thread's own connection


def _verify_seals(jobs: list[tuple[int, str]], public_pem: bytes, archived: dict) -> Report:
    public = keys.load_public_pem(public_pem)
    report = Report()
    for number, previous_hash in sorted(jobs):
        started = time.perf_counter()
        seal = Seal.objects.get(number=number)
        report.seals += 1
        report.problems += check_seal(seal, previous_hash, public)
        checked = time.perf_counter()
        report.timings["seals"] += checked - started
        in_archive = archived.get(seal.number)
        reach = _same_as_listed(seal) if seal.encoding >= 2 and _in_sql() and in_archive is None else None
        if reach is not None:  # every fact the seal lists hashes to its entry, in order
            report.facts += seal.fact_count
            found = {code: len(ids) for code, ids in listed_ids(seal).items()}
        else:
            problems, reach, count, found = _compare_facts(seal, in_archive)
            report.problems += problems
            report.facts += count
            report.archived += count - sum(found.values()) - sum(p.kind == "removed" for p in problems)
        for code, count in found.items():
            report.listed[code] = report.listed.get(code, 0) + count
        report.reach.append((seal.number, seal.created_at, seal.encoding >= 2 and seal.drained, reach))
        report.timings["facts"] += time.perf_counter() - checked
    return report


def _same_as_listed(seal: Seal) -> dict | None:
    """The facts `seal` lists, hashed by PostgreSQL, against the seal's list in one comparison:
    {source: highest id} when they are the same, None otherwise (then compared fact by fact)."""
    listed = listed_ids(seal)
    if not listed:
        return None
    parts = [f"SELECT {int(code)} AS code, id, '\\x{code:02x}'::bytea || int8send(id::bigint) || "
             f"sha256('\\x00'::bytea || {encoding_sql(code, seal.encoding)}) AS entry FROM {_table(code)} "
             "WHERE id = ANY(%s)"
             for code in listed]
    with connection.cursor() as cursor:
        cursor.execute("SET extra_float_digits = 1")
        cursor.execute("SELECT code, string_agg(entry, ''::bytea ORDER BY id), max(id) FROM ("
                       + " UNION ALL ".join(parts) + ") facts GROUP BY code ORDER BY code", list(listed.values()))
        found = cursor.fetchall()
    if b"".join(bytes(entries) for _code, entries, _top in found) != bytes(seal.leaves):
        return None
    return {code: top for code, _entries, top in found}


def _compare_facts(seal: Seal, in_archive: tuple[int, array] | None = None) -> tuple[list[Problem], dict, int, dict]:
    """Fact by fact: (problems, {source: highest id listed}, facts listed, {source: listed facts found}).
    `in_archive` (source, kept ids): the seal's facts of that source that an archive took out, all but
    the kept ones, may be missing."""
    problems, reach, count, found = [], {}, 0, {}
    for code, ids in listed_ids(seal).items():
        wanted = {fact_id: leaf for c, fact_id, leaf in entries_of(seal) if c == code}
        actual = dict(_leaves_of(code, ids, seal.encoding)) if code in SOURCES else {}
        count += len(wanted)
        reach[code] = max(wanted)
        found[code] = len(actual)
        for fact_id, leaf in wanted.items():
            if fact_id not in actual:
                if in_archive is not None and code == in_archive[0] and not _holds(in_archive[1], fact_id):
                    continue  # archived
                problems.append(Problem("removed", seal.number, NAMES.get(code, str(code)), fact_id,
                                        "a sealed fact is missing"))
            elif actual[fact_id] != leaf:
                problems.append(Problem("modified", seal.number, NAMES[code], fact_id, "a sealed fact was changed"))
    return problems, reach, count, found


def kept_ids(seal: Seal) -> array:
    """The ids of an archive link's `kept` list, ascending (stored as 8-byte big-endian numbers)."""
    ids, data = array("q"), bytes(seal.kept)
    ids.frombytes(data[:len(data) - len(data) % ids.itemsize])  # a damaged list is the link's check's to report
    if sys.byteorder == "little":
        ids.byteswap()
    return ids


def _holds(ids: array, fact_id: int) -> bool:
    index = bisect.bisect_left(ids, fact_id)
    return index < len(ids) and ids[index] == fact_id


def archived_seals(public) -> dict[int, tuple[int, array]]:
    """{number of a seal whose facts an archive took out: (their source, the ids of it that stay)},
    from the archive links that are signed with `public` and intact: a forged or changed link
    excuses nothing (and its own check reports it)."""
    archived = {}
    codes = {name: code for code, name in NAMES.items()}
    for link in Seal.objects.filter(archive__isnull=False).order_by("number"):
        if check_seal(link, link.previous_hash, public):
            continue
        code = codes.get(link.archive["source"])
        first, last = link.archive["first_seal"], link.archive["last_seal"]
        if code is None:
            continue
        kept = kept_ids(link)
        archived.update({number: (code, kept) for number in range(first, min(last, link.number - 1) + 1)})
    return archived


def check_unlisted(listed: dict) -> list[Problem]:
    """Facts that no seal lists and that are not queued either (written with the queue's trigger
    bypassed, or taken off the queue): `inserted`. Counted per source first; named only when the
    counts differ (every id is then read once)."""
    problems = []
    for code in SOURCES:
        table = _table(code)
        with connection.cursor() as cursor:  # the table counted alone (an index-only scan), the queue by its rows
            cursor.execute(f"SELECT (SELECT count(*) FROM {table}), (SELECT count(*) FROM evidence_pending p "
                           f"JOIN {table} t ON t.id = p.fact_id WHERE p.source = %s)", [code])
            total, queued = cursor.fetchone()
        if total == listed.get(code, 0) + queued:
            continue
        sealed = {fact_id for seal in Seal.objects.iterator(chunk_size=20)
                  for c, fact_id, _leaf in entries_of(seal) if c == code}
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT t.id FROM {table} t LEFT JOIN evidence_pending p ON p.source = %s "
                           "AND p.fact_id = t.id WHERE p.fact_id IS NULL ORDER BY t.id", [code])
            while batch := cursor.fetchmany(10_000):
                problems += [Problem("inserted", None, NAMES[code], fact_id,
                                     "no seal lists this fact and it is not waiting to be sealed")
                             for (fact_id,) in batch if fact_id not in sealed]
    return problems


def check_tail(reach: list) -> list[Problem]:
    """Facts not sealed yet that a sealer must already have sealed, had they been there: a fact
    is written and committed within GRACE, and a *drained* seal took every fact committed
    before it was made. So an unsealed fact is reported
    - slipped_in: when a drained seal was made at least GRACE after the first seal that listed a
      fact of the same source with a higher id (the fact's id was taken before that seal);
    - backdated: when a drained seal was made at least GRACE after the time the fact says it was
      recorded (credited time, completions, corrections: recorded_at, set by the server)."""
    drained = [(created_at, number) for number, created_at, was_drained, _top in reach if was_drained]
    if not drained:
        return []
    last_drained, last_number = max(drained)
    problems = []
    for code in SOURCES:
        passed = sorted((top[code], created_at) for _n, created_at, _d, top in reach if code in top)
        earliest_after = [None] * len(passed)  # earliest seal time among seals reaching beyond each id
        earliest = None
        for index in range(len(passed) - 1, -1, -1):
            earliest = passed[index][1] if earliest is None else min(earliest, passed[index][1])
            earliest_after[index] = earliest
        tops = [top for top, _created in passed]
        recorded = RECORDED.get(code)
        conditions, params = [], []
        if tops:
            conditions.append("t.id < %s")
            params.append(tops[-1])
        if recorded:
            conditions.append(f"t.{connection.ops.quote_name(recorded)} <= %s")
            params.append(connection.ops.adapt_datetimefield_value(last_drained - GRACE))
        if not conditions:
            continue
        column = "t." + connection.ops.quote_name(recorded) if recorded else "NULL"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT t.id, {column} FROM {_table(code)} t JOIN evidence_pending p ON p.source = "
                           f"{int(code)} AND p.fact_id = t.id WHERE {' OR '.join(conditions)} ORDER BY t.id", params)
            tail = cursor.fetchall()
        for fact_id, recorded_value in tail:
            index = bisect.bisect_right(tops, fact_id)
            if index < len(tops) and earliest_after[index] + GRACE <= last_drained:
                problems.append(Problem("slipped_in", None, NAMES[code], fact_id,
                                        f"not sealed, yet its id is below facts sealed from "
                                        f"{utc(earliest_after[index])} and seal {last_number} took all facts"))
                continue
            if recorded and recorded_value is not None:
                recorded_value = _as_moment(recorded_value)
                if recorded_value + GRACE <= last_drained:
                    problems.append(Problem("backdated", None, NAMES[code], fact_id,
                                            f"not sealed, yet recorded at {utc(recorded_value)}, before seal "
                                            f"{last_number} took all facts"))
    return problems


def _as_moment(value) -> dt.datetime:
    """A timestamp read with a raw cursor (SQLite gives text)."""
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        value = parse_datetime(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, dt.UTC)


def prove(code: int, fact_id: int) -> dict | None:
    """The inclusion proof of one fact: its seal, its leaf and the path to the seal's root."""
    found = locate(code, [fact_id]).get(fact_id)
    if found is None:
        return None
    seal, index = found
    leaves = [leaf for _c, _i, leaf in entries_of(seal)]
    return {"seal": seal.number, "index": index, "leaf": leaves[index].hex(),
            "proof": [[side, sibling.hex()] for side, sibling in merkle.inclusion_proof(leaves, index)],
            "root": seal.root, "encoding": seal.encoding}


def verify_fact(code: int, fact_id: int) -> bool:
    """The fact as it is now hashes to the leaf that its seal's root includes."""
    proof = prove(code, fact_id)
    if proof is None:
        return False
    found = _leaves(code, "id = %s", [fact_id], encoding=proof["encoding"])
    if not found:
        return False
    leaf = found[0][1]
    steps = [(side, bytes.fromhex(sibling)) for side, sibling in proof["proof"]]
    return leaf.hex() == proof["leaf"] and merkle.verify_inclusion(leaf, steps, bytes.fromhex(proof["root"]))


def record_verification(*, report: Report, started_at: dt.datetime) -> Verification:
    return Verification.objects.create(started_at=started_at, finished_at=timezone.now(), ok=report.ok,
                                       seals=report.seals, facts=report.facts, unsealed=report.unsealed,
                                       problems=[str(p) for p in report.problems[:1000]])
