"""Learning records: the facts that progress is derived from.

Video and document tracking, meeting check-ins, imports and quizzes feed these
tables through `records.services`; plans, reports and the training file read
them. Facts are appended, never updated: `CreditedTime`, `Completion` and
`QuizAttempt`. `CourseProgress` is the materialised state of one person on one
course, kept by the same services so that pages never scan the facts.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from learntrace.catalog.models import Category, Course, CourseKind, CreditClass, Quiz
from learntrace.org.models import Employee
from learntrace.records import beat_details
from learntrace.records.codes import KIND_CODES, SOURCE_CODES, CodeField, in_range


class Source(models.TextChoices):
    TRACKING = "tracking", _("Automatic tracking")
    CHECKIN = "checkin", _("Meeting check-in")
    MANUAL = "manual", _("Entered by an admin")
    IMPORTED = "imported", _("Imported history")
    QUIZ = "quiz", _("Quiz")


class CreditedTime(models.Model):
    """Seconds of learning credited to a person for a course, attributed to the moment
    they were first learned (which decides the period they count in)."""

    # Indexed by (employee, occurred_at) below, which every query of facts starts from (a person's
    # time, the worker's standings, reports); no query looks facts up by course or category alone,
    # and courses and categories are never deleted, so those keys have no index (a year of beats:
    # docs/evidence.md, *Indexes of the fact table*).
    # A beat's row is ~140 bytes, so every byte counts: on PostgreSQL the columns are stored 8-byte
    # ones first, then the UUID, 4-byte, 2-byte and variable-length ones, with no padding between
    # them (migration records 0010 rebuilt the table in that order; this declaration order is not
    # the table's). A new column goes at the end of the row: mind its alignment.
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="credited_times", db_index=False)
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="credited_times", db_index=False)
    # Copied from the course when recorded: later edits of a course do not rewrite history.
    # `kind` and `source` are words in Python (and in the evidence's encoding) and 2-byte numbers in
    # the row (codes.py), where their text took 6 to 9 bytes and the padding after it.
    kind = CodeField(choices=CourseKind.choices, codes=KIND_CODES)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+", db_index=False)
    seconds = models.PositiveIntegerField()
    occurred_at = models.DateTimeField()
    source = CodeField(choices=Source.choices, codes=SOURCE_CODES)
    recorded_at = models.DateTimeField(auto_now_add=True)
    # Tracked beats: every beat of a video or document player is one fact, credited or not,
    # identified by its viewing session and number (the idempotency key) and keeping what
    # it claimed and what was cut (see docs/tracking-protocol.md). The key has no index of its own:
    # the tracker keeps each beat once (tracking.services._apply, under the person's clock lock).
    attempt_id = models.UUIDField(null=True, blank=True)
    seq = models.PositiveIntegerField(null=True, blank=True)
    # What else a fact keeps: an imported fact's key and note; a beat's details written before
    # the compact form (and any a compact form cannot give back exactly). NULL when in `beat`.
    details = models.JSONField(default=dict, blank=True, null=True)
    # A beat's details in a few bytes (beat_details.py); read back into `details` when loaded.
    beat = models.BinaryField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["employee", "occurred_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(beat__isnull=True) | models.Q(details__isnull=True),
                                   name="details_in_one_form"),
            # Numbers without a word cannot be written, even by SQL.
            models.CheckConstraint(condition=models.Q(kind__range=in_range(KIND_CODES)), name="kind_has_a_word"),
            models.CheckConstraint(condition=models.Q(source__range=in_range(SOURCE_CODES)),
                                   name="source_has_a_word"),
        ]

    def __str__(self):
        return f"{self.employee} {self.course}: {self.seconds} s at {self.occurred_at:%Y-%m-%d %H:%M}"

    @classmethod
    def from_db(cls, db, field_names, values):
        fact = super().from_db(db, field_names, values)
        if fact.__dict__.get("beat") is not None and "recorded_at" in fact.__dict__:
            fact.details = beat_details.details(fact.beat, fact.recorded_at)
        return fact


class CreditedHour(models.Model):
    """Credited seconds summed by person, hour, kind and category: what progress reads instead of the
    facts (a viewer's month is a few dozen rows, not a fact per 15-second beat). Kept by triggers on
    the fact table in the transaction that writes, deletes or changes a fact (records/sums.py), so at
    every snapshot each row is exactly the sum of its facts. Facts of no seconds have no row.

    Hours are counted from the Unix epoch in UTC: they need no time zone, so a change of the
    deployment's zone leaves them right, and a period bounded inside an hour reads its partial
    hours from the facts."""

    pk = models.CompositePrimaryKey("employee_id", "hour", "kind", "category_id")
    # Rows follow the facts, which protect their people and categories: no constraints to check per beat.
    employee = models.ForeignKey(Employee, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                                 related_name="+")
    hour = models.IntegerField()  # whole hours since 1970-01-01 00:00 UTC
    kind = models.CharField(max_length=16, choices=CourseKind.choices)
    category = models.ForeignKey(Category, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                                 related_name="+")
    seconds = models.BigIntegerField()
    last_at = models.DateTimeField()  # the latest `occurred_at` of its facts

    def __str__(self):
        return f"{self.employee_id} hour {self.hour} {self.kind}: {self.seconds} s"


class ArchivedHour(models.Model):
    """Credited seconds of the beats an archive took out of the table (records/archive.py), by person,
    hour, kind, category and course. The running sums (`CreditedHour`) count the facts in the table;
    these count the archived ones, and every reader of credited time adds both. Written only by the
    archive, in the transaction that deletes the beats, so at every snapshot the two together are
    every credited second."""

    pk = models.CompositePrimaryKey("employee_id", "hour", "kind", "category_id", "course_id")
    employee = models.ForeignKey(Employee, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                                 related_name="+")
    hour = models.IntegerField()  # whole hours since 1970-01-01 00:00 UTC, as in CreditedHour
    kind = models.CharField(max_length=16, choices=CourseKind.choices)
    category = models.ForeignKey(Category, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                                 related_name="+")
    course = models.ForeignKey(Course, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                               related_name="+")
    seconds = models.BigIntegerField()
    last_at = models.DateTimeField()  # the latest `occurred_at` of its archived beats

    def __str__(self):
        return f"{self.employee_id} hour {self.hour} {self.kind} course {self.course_id}: {self.seconds} s archived"


class Completion(models.Model):
    """A course completed by a person, with the credits it awarded (once per person and course)."""

    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="completions")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="completions")
    completed_at = models.DateTimeField()
    credits = models.DecimalField(max_digits=6, decimal_places=2)
    credit_class = models.ForeignKey(CreditClass, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=16, choices=Source.choices)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["employee", "completed_at"]),
        ]
        constraints = [models.UniqueConstraint(fields=["employee", "course"], name="one_completion_per_course")]

    def __str__(self):
        return f"{self.employee} {self.course}: completed {self.completed_at:%Y-%m-%d}"

    @property
    def certificate_number(self) -> str:
        """The credit's certificate number (证书编号) in exports and the credit certificate: the year
        and the completion's number, unique and the same every time."""
        return f"LT{self.completed_at.year}{self.pk:08d}"


class QuizAttempt(models.Model):
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="quiz_attempts")
    quiz = models.ForeignKey(Quiz, on_delete=models.PROTECT, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    answers = models.JSONField()  # {question id: [choice ids]}
    score = models.PositiveSmallIntegerField()  # percent
    passed = models.BooleanField()
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["submitted_at"]
        constraints = [models.UniqueConstraint(fields=["employee", "quiz", "number"], name="one_attempt_number")]

    def __str__(self):
        return f"{self.employee} {self.quiz} #{self.number}: {self.score}%"


class CourseProgress(models.Model):
    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="course_progress")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="progress")
    first_started_at = models.DateTimeField()
    last_activity_at = models.DateTimeField()
    credited_ms = models.BigIntegerField(default=0)
    # Videos: the union of watched intervals, [[start_ms, end_ms], ...]; documents: covered_ms
    # is the reading time credited. Kept by the tracker's beats, under this row's lock.
    intervals = models.JSONField(default=list, blank=True)
    covered_ms = models.BigIntegerField(default=0)
    played_ms = models.BigIntegerField(default=0)  # repeats included
    last_position_ms = models.BigIntegerField(default=0)
    quiz_passed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["employee", "course"], name="one_progress_per_course")]

    def __str__(self):
        return f"{self.employee} {self.course}: {self.credited_seconds} s"

    @property
    def credited_seconds(self) -> int:
        return self.credited_ms // 1000

    @property
    def percent(self) -> int:
        """The credited time as a share of the course's duration, in whole percent rounded down: what
        completion compares with the course's threshold, and what the player shows while learning, so
        one page never shows two figures (whether the course counts as completed is the completion's
        to say: a voided one no longer does)."""
        duration_ms = self.course.duration_seconds * 1000
        return min(100, self.credited_ms * 100 // duration_ms) if duration_ms else 0


class Correction(models.Model):
    """An admin's correction of a recorded fact: a new fact that points at the one it corrects,
    with the reason and who made it. Credited time is adjusted by `seconds_delta` (attributed to
    when the corrected fact happened); a completion is voided. Nothing is edited in place."""

    class Target(models.TextChoices):
        CREDITED_TIME = "creditedtime", _("Credited time")
        COMPLETION = "completion", _("Completion")

    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="corrections")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="corrections")
    corrects = models.CharField(max_length=16, choices=Target.choices)
    corrects_id = models.BigIntegerField()
    seconds_delta = models.IntegerField(default=0)
    voids = models.BooleanField(default=False)
    occurred_at = models.DateTimeField()
    reason = models.CharField(max_length=500)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["employee", "occurred_at"]),
            models.Index(fields=["corrects", "corrects_id"]),
        ]

    def __str__(self):
        return f"{self.employee} {self.corrects} #{self.corrects_id}: {self.reason[:40]}"


class OutsideCredit(models.Model):
    """Credits earned elsewhere (a conference, an online programme, further study), approved by the
    person's department head and the education office: a fact like a completion, with the digest of
    the certificate scan it was approved on (the scan itself stays with the declaration)."""

    class Kind(models.TextChoices):
        CONFERENCE = "conference", _("Conference or meeting")
        ONLINE = "online", _("Online programme (e.g. provincial)")
        FURTHER_STUDY = "further_study", _("Further study (进修)")
        SELF_STUDY = "self_study", _("Self-study")

    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="outside_credits")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(max_length=300)
    project_number = models.CharField(max_length=100, blank=True)
    started_on = models.DateField()
    ended_on = models.DateField()
    credited_at = models.DateTimeField()  # the start of its last day: the year it counts in
    credits = models.DecimalField(max_digits=6, decimal_places=2)
    seconds = models.PositiveIntegerField(default=0)  # the hours it lasted
    credit_class = models.ForeignKey(CreditClass, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    certificate_sha256 = models.CharField(max_length=64)
    declaration_id = models.BigIntegerField(null=True, blank=True)  # declarations.Declaration
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["employee", "credited_at"]),
        ]
        constraints = [models.CheckConstraint(condition=models.Q(credits__gte=0), name="outside_credits_not_negative")]

    def __str__(self):
        return f"{self.employee} {self.title}: {self.credits}"
