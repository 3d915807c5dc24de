"""Seals: signed Merkle roots over batches of learning facts, chained one to the next.

The facts stay in their own tables (credited time, completions, quiz attempts, check-in
events) and are never written again once inserted: a fact row does not say which seal
covers it. A seal stores, for every fact it covers, the fact's table, id and digest, so
that verification can say exactly which fact was changed, removed or slipped in; the facts
not sealed yet wait in `Pending`."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Seal(models.Model):
    number = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField()
    fact_count = models.PositiveIntegerField()
    root = models.CharField(max_length=64)  # hex SHA-256 Merkle root of the facts' leaf hashes
    previous_hash = models.CharField(max_length=64)  # the previous seal's hash ("0" * 64 for the first)
    seal_hash = models.CharField(max_length=64)  # SHA-256 of the canonical header below
    signature = models.CharField(max_length=200)  # Ed25519 over seal_hash, base64
    key_id = models.CharField(max_length=64)  # SHA-256 of the raw public key, hex
    leaves = models.BinaryField()  # per fact: source (1 byte) + id (8 bytes) + leaf hash (32 bytes)
    encoding = models.PositiveSmallIntegerField(default=1)  # of its facts (canonical.py); in the header from 2 on
    drained = models.BooleanField(default=False)  # it took every fact committed before it was made
    # A link that records an archive (records/archive.py) lists no facts: what it archived is in its header,
    # and `kept` holds the ids (8 bytes each, ascending) of the facts of its seals that stay.
    archive = models.JSONField(null=True, blank=True)
    kept = models.BinaryField(default=b"", blank=True)
    archive_done = models.BooleanField(default=False)  # its archived facts are all deleted (not signed: a state)
    archive_file = models.CharField(max_length=300, blank=True, default="")  # in the shared storage, when kept there

    class Meta:
        ordering = ["number"]
        verbose_name = _("seal")
        verbose_name_plural = _("seals")

    def __str__(self):
        return f"seal {self.number} ({self.fact_count} facts)"


class SealSpan(models.Model):
    """The lowest and highest id of one source that a seal lists: finds the seal of a fact
    (a fact committed late lies in two seals' spans; the seal's list says which one has it)."""

    seal = models.ForeignKey(Seal, on_delete=models.CASCADE, related_name="spans")
    source = models.PositiveSmallIntegerField()  # sources.SOURCES code
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["source", "last_id"], name="sealspan_by_last_id")]

    def __str__(self):
        return f"seal {self.seal_id}: source {self.source} #{self.first_id}–#{self.last_id}"


class Pending(models.Model):
    """A fact no seal covers yet. The database writes this row itself (a trigger on every fact
    table, see migration 0004), in the transaction that inserts the fact, so a fact is queued
    exactly when it commits; the seal that takes the fact deletes the row in its own transaction."""

    pk = models.CompositePrimaryKey("source", "fact_id")
    source = models.PositiveSmallIntegerField()  # sources.SOURCES code
    fact_id = models.BigIntegerField()

    def __str__(self):
        return f"pending: source {self.source} #{self.fact_id}"


class SealChain(models.Model):
    """One row, locked while a seal is made: sealers take turns; writers of facts never wait."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)

    def __str__(self):
        return "seal chain"


class Verification(models.Model):
    """The outcome of the last verification runs, for the auditor's page."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(null=True)
    seals = models.PositiveIntegerField(default=0)
    facts = models.PositiveBigIntegerField(default=0)
    unsealed = models.PositiveBigIntegerField(default=0)  # facts no seal covered yet when it ran
    problems = models.JSONField(default=list)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"verification {self.started_at:%Y-%m-%d %H:%M} ok={self.ok}"
