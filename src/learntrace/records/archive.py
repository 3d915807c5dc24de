"""Archiving old months of beats: out of the database into a file that proves itself, with a signed
link in the seal chain that says exactly what left.

A year of tracking is mostly beats, one fact per 15 seconds of learning. Once their months are
over, nothing reads them one by one: progress, reports and the training file read credited time
by the hour, and their evidence is the seals.
`archive(before=…, path=…)`

1. takes the seals made before `before` that no archive took yet, checks each of them (header,
   chain link, signature, list of facts) and each of their beats against its leaf: a changed or
   missing fact stops the archive before anything is recorded;
2. writes those seals with their lists, and their beats in their seals' encodings, to a gzip'd
   JSON-lines file that `offline.verify_archive` checks without the database;
3. adds a link to the chain (a seal of no facts of its own) whose signed header names the seals,
   the number of beats, the file's SHA-256 and, by digest, the credited time of those seals that
   stays (everything that is not a beat: meeting credit, manual and imported time, quiz time);
4. deletes the archived beats in batches, their seconds moved from the running sums of the table's
   facts (records/sums.py) to the archived hours (`ArchivedHour`), which every reader adds
   (`finish`, which the command runs first as well, so an interrupted run is completed by the next).

It lives with the records, above the seals: it deletes facts and keeps their time. `verify` then
accepts the absence of exactly those beats: the link is checked like any seal, and a missing fact
of its seals that is kept, or of another source, is still `removed`."""

import datetime as dt
import gzip
import hashlib
import json
import logging
import os
import struct
import tempfile

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from learntrace.core import files
from learntrace.core.audit import record_change
from learntrace.core.months import add_months, local_date, local_zone, start_of_day
from learntrace.evidence import keys, merkle
from learntrace.evidence.canonical import GENESIS, fact_bytes, fact_texts_bytes, utc
from learntrace.evidence.models import Seal, SealChain
from learntrace.evidence.services import (
    check_seal,
    entries_of,
    fact_texts,
    id_chunks,
    ids_sql,
    kept_ids,
    signed_seal,
)
from learntrace.evidence.sources import NAMES, body, encoding_sql, model, rows
from learntrace.records import sums
from learntrace.records.codes import KIND_CODES, SOURCE_CODES, words_sql
from learntrace.records.models import ArchivedHour

logger = logging.getLogger(__name__)
FORMAT = "learntrace-archive/1"
LOCK = "records-archive"  # one archive at a time: the worker's nightly run and the command
CREDITED = 1  # the source whose beats are archived (sources.SOURCES)
BEAT = SOURCE_CODES["tracking"]  # a beat's `source` as stored
ID = struct.Struct(">q")


class ArchiveRefused(Exception):
    """Nothing was archived, for the reason given."""


class NothingToArchive(ArchiveRefused):
    """Nothing was archived because nothing is old enough: the usual answer on most nights."""


def archived_to() -> int:
    """The number of the last seal that an archive took (0: none), by the links that verify."""
    public = keys.public_key()
    return max((link.archive["last_seal"] for link in Seal.objects.filter(archive__isnull=False).defer("leaves")
                if not check_seal(link, link.previous_hash, public)), default=0)


def seals_before(before: dt.datetime) -> list[int]:
    """The numbers of the seals made before `before` that no archive took yet, oldest first, up
    to the first seal made at or after it (an archive takes an unbroken run of the chain)."""
    numbers = []
    for number, created_at in (Seal.objects.filter(number__gt=archived_to()).order_by("number")
                               .values_list("number", "created_at")):
        if created_at >= before:
            break
        numbers.append(number)
    return numbers


def _zone_on_whole_hours() -> bool:
    """Archived beats are counted by the sums' whole hours only: the deployment's zone must start
    its days (so its periods) and years on whole hours of UTC."""
    zone = local_zone()
    return sums.years_start_on_hours(zone) and all(
        dt.datetime(year, month, 1, tzinfo=zone).utcoffset() % sums.HOUR == dt.timedelta(0)
        for year in range(1971, 2101) for month in (4, 7, 10))


def archive_by_retention(*, now: dt.datetime | None = None) -> Seal | None:
    """The worker's nightly archive (ARCHIVE_BEATS_AFTER_MONTHS): the beats sealed before the first day
    of the month that many months back, to the shared storage. None when nothing is old enough, or
    archiving is off."""
    months = settings.ARCHIVE_BEATS_AFTER_MONTHS
    if months <= 0:
        return None
    finish()
    now = now or timezone.now()
    before = start_of_day(add_months(local_date(now), -months))
    try:
        return archive(before=before, now=now, via="worker")
    except NothingToArchive:
        return None
    except ArchiveRefused as exc:  # a changed or missing fact, or a zone it cannot serve: someone must look
        logger.warning("old beats were not archived: %s", exc)
        return None


def archive(*, before: dt.datetime, path: str | None = None, now: dt.datetime | None = None,
            via: str = "command") -> Seal:
    """Archive the beats of the seals made before `before` into the file `path`, or without one into
    the shared storage's `archives/` (see the module). Returns the chain's new link; raises
    ArchiveRefused, recording nothing, when it cannot."""
    now = now or timezone.now()
    if before > now:
        raise ArchiveRefused(f"{utc(before)} is in the future: only what was sealed before now can be archived")
    if not _zone_on_whole_hours():
        raise ArchiveRefused(f"the time zone {settings.TIME_ZONE} does not start its days on whole hours of UTC, "
                             f"so the running sums cannot stand in for archived beats")
    if path is not None and os.path.exists(path):
        raise ArchiveRefused(f"{path} exists already: an archive never overwrites a file")
    numbers = seals_before(before)
    if not numbers:
        raise NothingToArchive(f"no seal made before {utc(before)} is left to archive")
    public = keys.public_key()
    name = f"beats-sealed-before-{local_date(before).isoformat()}.jsonl.gz"
    with tempfile.TemporaryDirectory(prefix="learntrace-archive-") as folder:
        # A name of its own beside the file (a run at the same time writes its own), or in a temporary folder.
        try:
            descriptor, partial = tempfile.mkstemp(prefix=".learntrace-archive-", suffix=".partial",
                                                   dir=os.path.dirname(os.path.abspath(path)) if path else folder)
        except OSError as exc:
            raise ArchiveRefused(f"cannot write beside {path}: {exc.strerror}") from exc
        os.close(descriptor)
        try:
            try:
                summary = _write(partial, numbers, before, public, now)
            except OSError as exc:  # the disk is full, the folder went away: nothing recorded yet
                raise ArchiveRefused(f"cannot write the archive: {exc.strerror or exc}") from exc
            if not summary["facts"]:
                raise NothingToArchive(f"the seals made before {utc(before)} hold no beats to archive")
            with open(partial, "rb") as handle:
                os.fsync(handle.fileno())  # on the disk before the beats leave the database
                handle.seek(0)
                summary["file_sha256"] = hashlib.file_digest(handle, "sha256").hexdigest()
            kept = summary.pop("kept_ids")
            if path is not None:
                _publish(partial, path)
                stored = ""
            else:
                stored = _store(partial, name, summary["file_sha256"])
            try:
                link = _record(summary, kept, numbers, now, stored)
            except BaseException:  # not recorded: no file may claim otherwise
                if path is not None:
                    os.remove(path)
                else:
                    files.remove(stored)
                raise
        finally:
            if os.path.exists(partial):
                os.remove(partial)
    record_change(actor=None, action="archive", object_type="seal", object_id=str(link.number),
                  summary=f"{via}: {summary['facts']} beats of seals #{numbers[0]}–#{numbers[-1]} archived "
                          f"to a file of SHA-256 {summary['file_sha256']}")
    logger.info("archived %s beats of seals #%s–#%s (%s)", summary["facts"], numbers[0], numbers[-1], via)
    finish()
    link.refresh_from_db(fields=["archive_done"])
    return link


def _publish(partial: str, path: str) -> None:
    """The finished file under its name, never over another file, and the folder's entry on the disk."""
    try:
        os.link(partial, path)  # fails when the name is taken, even by a file made while this ran
    except FileExistsError as exc:
        raise ArchiveRefused(f"{path} exists already: an archive never overwrites a file") from exc
    except OSError:  # a file system without hard links
        if os.path.exists(path):
            raise ArchiveRefused(f"{path} exists already: an archive never overwrites a file") from None
        os.replace(partial, path)
    folder = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _store(partial: str, name: str, digest: str) -> str:
    """The finished file in the shared storage, read back and checked before anything is deleted."""
    with open(partial, "rb") as handle:
        stored = files.store(f"archives/{name}", handle)
    try:
        with files.local_copy(stored) as copy, open(copy, "rb") as handle:
            if hashlib.file_digest(handle, "sha256").hexdigest() == digest:
                return stored
    except OSError:
        pass
    files.remove(stored)
    raise ArchiveRefused(f"the shared storage did not keep {name} as it was written: nothing archived")


def _write(partial: str, numbers: list[int], before: dt.datetime, public, now: dt.datetime) -> dict:
    """Check the seals and their beats, and write them to `partial`. {facts, kept, kept_ids, …}."""
    first = numbers[0]
    previous = Seal.objects.filter(number=first - 1).values_list("seal_hash", flat=True).first() or GENESIS
    facts, kept = 0, []
    with gzip.open(partial, "wt", encoding="utf-8", compresslevel=6) as out:
        out.write(_line({"format": FORMAT, "created_at": utc(now), "before": utc(before), "source": NAMES[CREDITED],
                         "first_seal": first, "last_seal": numbers[-1], "key_id": keys.key_id(public),
                         "public_key_pem": keys.public_pem(public).decode()}))
        for number in numbers:
            seal = Seal.objects.get(number=number)
            if problems := check_seal(seal, previous, public):
                raise ArchiveRefused(f"{problems[0]}: run `learntrace verify`")
            previous = seal.seal_hash
            beats, stays = _beats_of(seal)
            kept += stays
            out.write(_line({"seal": _header(seal), "kept": stays}))
            out.writelines(beats)
            facts += len(beats)
    kept.sort()
    return {"source": NAMES[CREDITED], "what": "beats", "before": utc(before), "first_seal": first,
            "last_seal": numbers[-1], "facts": facts, "kept": len(kept), "kept_ids": kept,
            "kept_sha256": hashlib.sha256(b"".join(ID.pack(i) for i in kept)).hexdigest()}


def _line(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


def _header(seal: Seal) -> dict:
    header = {"number": seal.number, "created_at": utc(seal.created_at), "fact_count": seal.fact_count,
              "root": seal.root, "previous_hash": seal.previous_hash, "seal_hash": seal.seal_hash,
              "signature": seal.signature, "key_id": seal.key_id, "encoding": seal.encoding,
              "drained": seal.drained, "leaves": bytes(seal.leaves).hex()}
    if seal.archive is not None:
        header["archive"] = seal.archive
    return header


def _beats_of(seal: Seal) -> tuple[list[str], list[int]]:
    """(the seal's beats as lines of the file, the ids of its other credited time): every beat read
    hashes to the leaf its seal lists, or the archive is refused. A beat of encoding 2 or 3 is written
    as its canonical text itself (`"texts"`: the JSON array that was hashed, built by PostgreSQL
    there), one of encoding 1 as its plain values (`"fact"`)."""
    listed = {fact_id: leaf for code, fact_id, leaf in entries_of(seal) if code == CREDITED}
    if not listed:
        return [], []
    table = model(CREDITED)
    found = {}
    for chunk in id_chunks(list(listed)):
        found.update(table.objects.filter(id__in=chunk).values_list("id", "source"))
    if missing := sorted(set(listed) - set(found)):
        raise ArchiveRefused(f"seal {seal.number}: {NAMES[CREDITED]} #{missing[0]} is missing; run `learntrace verify`")
    beats = sorted(fact_id for fact_id, source in found.items() if source == "tracking")
    stays = sorted(fact_id for fact_id, source in found.items() if source != "tracking")
    lines = []  # (id, leaf as read, line)
    if seal.encoding >= 2 and connection.vendor == "postgresql":  # PostgreSQL hashes and prints them
        with connection.cursor() as cursor:
            cursor.execute("SET extra_float_digits = 1")
            encoded = encoding_sql(CREDITED, seal.encoding)
            cursor.execute(f"SELECT id, sha256('\\x00'::bytea || {encoded}), convert_from({encoded}, 'UTF8') "
                           f"FROM {connection.ops.quote_name(table._meta.db_table)} WHERE id = ANY(%s) ORDER BY id",
                           [beats])
            lines = [(fact_id, bytes(leaf), f'{{"seal":{seal.number},"texts":{text}}}\n')
                     for fact_id, leaf, text in cursor.fetchall()]
    elif seal.encoding >= 2:
        for fact_id, texts in sorted(fact_texts(CREDITED, beats, seal.encoding).items()):
            lines.append((fact_id, merkle.leaf_hash(fact_texts_bytes(texts)),
                          _line({"seal": seal.number, "texts": texts})))
    else:
        for chunk in id_chunks(beats):
            for row in rows(CREDITED, table.objects.filter(id__in=chunk).order_by("id")):
                plain = body(CREDITED, row)
                lines.append((row["id"], merkle.leaf_hash(fact_bytes(plain)),
                              _line({"seal": seal.number, "fact": plain})))
    if len(lines) != len(beats):  # deleted while it was read
        missing = sorted(set(beats) - {fact_id for fact_id, _leaf, _text in lines})
        raise ArchiveRefused(f"seal {seal.number}: {NAMES[CREDITED]} #{missing[0]} is missing; run `learntrace verify`")
    for fact_id, leaf, _text in lines:
        if leaf != listed[fact_id]:
            raise ArchiveRefused(f"seal {seal.number}: {NAMES[CREDITED]} #{fact_id} was changed after it was sealed; "
                                 f"run `learntrace verify`")
    return [line for _id, _leaf, line in lines], stays


@transaction.atomic
def _record(summary: dict, kept: list[int], numbers: list[int], now: dt.datetime, stored: str) -> Seal:
    SealChain.objects.get_or_create(pk=1)
    SealChain.objects.select_for_update().get(pk=1)  # sealers and archives take turns
    if archived_to() >= numbers[0]:
        raise ArchiveRefused(f"seal {numbers[0]} was archived meanwhile by another run")
    link = signed_seal(entries=[], now=now, drained=False, archive=summary,
                       kept=b"".join(ID.pack(fact_id) for fact_id in kept), save=False)
    link.archive_file = stored
    link.save()
    return link


def finish(*, batch_size: int = 10_000) -> int:
    """Delete the archived beats still in the database (all archives' seals, a batch per
    transaction), their time kept in the archived hours. Returns how many were deleted."""
    deleted = 0
    table = connection.ops.quote_name(model(CREDITED)._meta.db_table)
    public = keys.public_key()
    for link in Seal.objects.filter(archive__isnull=False, archive_done=False).order_by("number"):
        if problems := check_seal(link, None, public):
            logger.warning("archive link #%s is not intact (%s): nothing deleted for it", link.number, problems[0])
            continue
        kept = set(kept_ids(link))
        for seal in Seal.objects.filter(number__gte=link.archive["first_seal"],
                                        number__lte=link.archive["last_seal"]).iterator(chunk_size=10):
            if problems := check_seal(seal, None, public):  # its list is what the deletion follows
                logger.warning("seal %s is not intact (%s): none of its beats deleted", seal.number, problems[0])
                continue
            ids = [fact_id for code, fact_id, _leaf in entries_of(seal) if code == CREDITED and fact_id not in kept]
            for start in range(0, len(ids), batch_size):
                deleted += _delete(table, ids[start:start + batch_size])
        Seal.objects.filter(pk=link.pk).update(archive_done=True)
    return deleted


@transaction.atomic
def _delete(table: str, ids: list[int]) -> int:
    """Delete a batch of archived beats. In the same transaction their seconds are added to the archived
    hours, and each hour they leave is counted again once from the facts that stay, where the sums'
    trigger would count it again for every beat (BENCHMARKS.md: about 40 times the cost)."""
    deleted, postgresql = 0, connection.vendor == "postgresql"
    hour = sums.hour_sql(connection.vendor, "occurred_at").replace("%", "%%")  # in statements with parameters
    word = words_sql(KIND_CODES, "kind", postgresql=postgresql)
    archived = connection.ops.quote_name(ArchivedHour._meta.db_table)
    for chunk in id_chunks(ids):
        listed, params = ids_sql("id", chunk)
        beats, params = f"{listed} AND source = %s", [*params, BEAT]
        with sums.archiving(), connection.cursor() as cursor:
            cursor.execute(f"SELECT DISTINCT employee_id, {hour}, kind, category_id FROM {table} "
                           f"WHERE {beats} AND seconds > 0", params)
            touched = cursor.fetchall()
            cursor.execute(
                f"INSERT INTO {archived} (employee_id, hour, kind, category_id, course_id, seconds, last_at) "
                f"SELECT employee_id, {hour}, {word}, category_id, course_id, sum(seconds), max(occurred_at) "
                f"FROM {table} WHERE {beats} AND seconds > 0 GROUP BY employee_id, {hour}, kind, category_id, "
                f"course_id ON CONFLICT (employee_id, hour, kind, category_id, course_id) DO UPDATE SET "
                f"seconds = {archived}.seconds + excluded.seconds, "
                f"last_at = {'greatest' if postgresql else 'max'}({archived}.last_at, excluded.last_at)", params)
            cursor.execute(f"DELETE FROM {table} WHERE {beats}", params)
            deleted += cursor.rowcount
        sums.recount(touched)
    return deleted
