"""The evidence bundle of one person and date range: their sealed facts with inclusion proofs,
every seal header (the whole chain), and the public key. Verified by `offline.py` alone."""

import datetime as dt

from django.utils import timezone

from learntrace.evidence import canonical, keys, merkle
from learntrace.evidence.canonical import utc
from learntrace.evidence.models import Seal
from learntrace.evidence.services import entries_of, fact_texts, locate
from learntrace.evidence.sources import NAMES, SOURCES, body, model, rows

FORMAT = "learntrace-evidence-bundle/2"
FORMAT_WITH_LINKS = "learntrace-evidence-bundle/3"  # its chain holds an archive's link (offline.FORMATS)
# The field that dates each kind of fact, for the date range; keyed by model label, not by source
# code, so that a new source cannot shift the entries.
_WHEN_BY_LABEL = {"records.CreditedTime": "occurred_at", "records.Completion": "completed_at",
                  "records.QuizAttempt": "submitted_at", "checkin.CheckInEvent": "at", "plans.ReflectionEvent": "at",
                  "records.Correction": "occurred_at", "records.OutsideCredit": "credited_at",
                  "exams.ExamResult": "submitted_at", "certificates.Certificate": "issued_at",
                  "certificates.Revocation": "revoked_at"}
WHEN = {code: _WHEN_BY_LABEL[label] for code, (label, _fields) in SOURCES.items()}


def make_bundle(employee, *, start: dt.datetime, end: dt.datetime) -> dict:
    facts, unsealed, proofs_by_seal = [], 0, {}
    for code in SOURCES:
        queryset = model(code).objects.filter(employee=employee, **{f"{WHEN[code]}__gte": start,
                                                                      f"{WHEN[code]}__lt": end}).order_by("id")
        sealed = locate(code, queryset.values_list("id", flat=True))
        # encodings 2 and 3: the field texts exactly as hashed (by PostgreSQL there); 1: the plain values
        texts_of = {}
        for encoding in {seal.encoding for seal, _index in sealed.values()} - {1}:
            texts_of[encoding] = fact_texts(code, [i for i, (seal, _index) in sealed.items()
                                                   if seal.encoding == encoding], encoding)
        for row in rows(code, queryset):
            if row["id"] not in sealed:
                unsealed += 1
                continue
            seal, index = sealed[row["id"]]
            number = seal.number
            if number not in proofs_by_seal:
                proofs_by_seal[number] = [leaf for _c, _i, leaf in entries_of(seal)]
            leaves = proofs_by_seal[number]
            if seal.encoding >= 2:
                texts = texts_of[seal.encoding][row["id"]]
                fields = dict(zip(canonical.fields(NAMES[code], seal.encoding), texts[2:], strict=True))
                fact = {"source": texts[0], "id": texts[1], "fields": fields}
            else:
                fact = body(code, row)
            facts.append({"fact": fact, "seal": number, "index": index,
                          "proof": [[side, sibling.hex()] for side, sibling in merkle.inclusion_proof(leaves, index)]})
    public = keys.public_key()
    seals = [{"number": s.number, "created_at": utc(s.created_at), "fact_count": s.fact_count, "root": s.root,
              "previous_hash": s.previous_hash, "seal_hash": s.seal_hash, "signature": s.signature,
              "key_id": s.key_id, "encoding": s.encoding, "drained": s.drained,
              **({"archive": s.archive} if s.archive is not None else {})}
             for s in Seal.objects.order_by("number").defer("leaves", "kept")]
    return {
        "format": FORMAT_WITH_LINKS if any("archive" in seal for seal in seals) else FORMAT,
        "created_at": utc(timezone.now()),
        "person": {"employee_no": employee.employee_no, "name": employee.name},
        "from": utc(start), "to": utc(end), "unsealed_facts": unsealed,
        "public_key_pem": keys.public_pem(public).decode(), "key_id": keys.key_id(public),
        "seals": seals,
        "facts": facts,
        "sources": {str(code): NAMES[code] for code in SOURCES},
    }


def bundle_name(employee) -> str:
    return f"evidence-{employee.employee_no}.json"


