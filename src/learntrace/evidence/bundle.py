"""The evidence bundle of one person and date range: their sealed facts with inclusion proofs,
every seal header (the whole chain), and the public key. Verified by `offline.py` alone."""

import datetime as dt

from django.utils import timezone

from learntrace.evidence import keys, merkle
from learntrace.evidence.canonical import utc
from learntrace.evidence.models import Seal
from learntrace.evidence.services import entries_of, fact_texts
from learntrace.evidence.sources import NAMES, SOURCES, body, model, rows

FORMAT = "learntrace-evidence-bundle/2"
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
        seal_of = dict(queryset.values_list("id", "seal__number"))
        encoding_of = dict(Seal.objects.filter(number__in=set(seal_of.values()) - {None})
                           .values_list("number", "encoding"))
        # encoding 2: the field texts exactly as hashed (by PostgreSQL there); 1: the plain values
        texts_of = fact_texts(code, [i for i, number in seal_of.items() if encoding_of.get(number) == 2])
        for row in rows(code, queryset):
            number = seal_of[row["id"]]
            if number is None:
                unsealed += 1
                continue
            if number not in proofs_by_seal:
                seal = Seal.objects.get(number=number)
                entries = entries_of(seal)
                proofs_by_seal[number] = ({(c, i): index for index, (c, i, _leaf) in enumerate(entries)},
                                          [leaf for _c, _i, leaf in entries])
            positions, leaves = proofs_by_seal[number]
            index = positions.get((code, row["id"]))
            if index is None:
                unsealed += 1  # claims a seal that does not list it: verification reports it
                continue
            if encoding_of[number] == 2:
                texts = texts_of[row["id"]]
                fields = dict(zip(SOURCES[code][1], texts[2:], strict=True))
                fact = {"source": texts[0], "id": texts[1], "fields": fields}
            else:
                fact = body(code, row)
            facts.append({"fact": fact, "seal": number, "index": index,
                          "proof": [[side, sibling.hex()] for side, sibling in merkle.inclusion_proof(leaves, index)]})
    public = keys.public_key()
    return {
        "format": FORMAT, "created_at": utc(timezone.now()),
        "person": {"employee_no": employee.employee_no, "name": employee.name},
        "from": utc(start), "to": utc(end), "unsealed_facts": unsealed,
        "public_key_pem": keys.public_pem(public).decode(), "key_id": keys.key_id(public),
        "seals": [{"number": s.number, "created_at": utc(s.created_at), "fact_count": s.fact_count, "root": s.root,
                   "previous_hash": s.previous_hash, "seal_hash": s.seal_hash, "signature": s.signature,
                   "key_id": s.key_id, "encoding": s.encoding, "drained": s.drained}
                  for s in Seal.objects.order_by("number").defer("leaves")],
        "facts": facts,
        "sources": {str(code): NAMES[code] for code in SOURCES},
    }


def bundle_name(employee) -> str:
    return f"evidence-{employee.employee_no}.json"


