"""A meeting's counts of who checked in and out, kept on the meeting by the database.

The projector shows them every second; counting the attendances instead read every row of the
meeting (20 000 at a large one) on every poll. Triggers on the attendance table add and subtract
in the transaction that changes an attendance, whoever changes it (a scan, an organiser, a
participant list, a bulk insert, a deletion), so the counts are exact once it commits, and two
check-ins at once queue on the meeting's row instead of losing one. The triggers are (re)installed
after every `migrate`, because SQLite drops a table's triggers when a migration rebuilds it."""

from django.db import connection as default_connection
from django.db.models import Count, Q

ATTENDANCE, MEETING = "checkin_attendance", "checkin_meeting"

_POSTGRES = [
    f"""
CREATE OR REPLACE FUNCTION checkin_count_attendance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    came integer := 0;
    left_ integer := 0;
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE {MEETING} SET present_count = present_count - (OLD.checked_in_at IS NOT NULL)::integer,
            checked_out_count = checked_out_count - (OLD.checked_out_at IS NOT NULL)::integer
        WHERE id = OLD.meeting_id;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF OLD.meeting_id <> NEW.meeting_id THEN
            UPDATE {MEETING} SET present_count = present_count - (OLD.checked_in_at IS NOT NULL)::integer,
                checked_out_count = checked_out_count - (OLD.checked_out_at IS NOT NULL)::integer
            WHERE id = OLD.meeting_id;
        ELSE
            came := -(OLD.checked_in_at IS NOT NULL)::integer;
            left_ := -(OLD.checked_out_at IS NOT NULL)::integer;
        END IF;
    END IF;
    came := came + (NEW.checked_in_at IS NOT NULL)::integer;
    left_ := left_ + (NEW.checked_out_at IS NOT NULL)::integer;
    IF came <> 0 OR left_ <> 0 THEN
        UPDATE {MEETING} SET present_count = present_count + came, checked_out_count = checked_out_count + left_
        WHERE id = NEW.meeting_id;
    END IF;
    RETURN NULL;
END
$$""",
    f"DROP TRIGGER IF EXISTS checkin_count_insert ON {ATTENDANCE}",
    f"DROP TRIGGER IF EXISTS checkin_count_update ON {ATTENDANCE}",
    f"DROP TRIGGER IF EXISTS checkin_count_delete ON {ATTENDANCE}",
    f"""CREATE TRIGGER checkin_count_insert AFTER INSERT ON {ATTENDANCE} FOR EACH ROW
        WHEN (NEW.checked_in_at IS NOT NULL OR NEW.checked_out_at IS NOT NULL)
        EXECUTE FUNCTION checkin_count_attendance()""",
    # Only when an attendance comes, leaves or moves: saving its credited time touches no meeting.
    f"""CREATE TRIGGER checkin_count_update AFTER UPDATE ON {ATTENDANCE} FOR EACH ROW
        WHEN ((OLD.checked_in_at IS NULL) <> (NEW.checked_in_at IS NULL)
              OR (OLD.checked_out_at IS NULL) <> (NEW.checked_out_at IS NULL) OR OLD.meeting_id <> NEW.meeting_id)
        EXECUTE FUNCTION checkin_count_attendance()""",
    f"""CREATE TRIGGER checkin_count_delete AFTER DELETE ON {ATTENDANCE} FOR EACH ROW
        WHEN (OLD.checked_in_at IS NOT NULL OR OLD.checked_out_at IS NOT NULL)
        EXECUTE FUNCTION checkin_count_attendance()""",
]

_ADD = (f"UPDATE {MEETING} SET present_count = present_count + (NEW.checked_in_at IS NOT NULL), "
        f"checked_out_count = checked_out_count + (NEW.checked_out_at IS NOT NULL) WHERE id = NEW.meeting_id;")
_SUBTRACT = (f"UPDATE {MEETING} SET present_count = present_count - (OLD.checked_in_at IS NOT NULL), "
             f"checked_out_count = checked_out_count - (OLD.checked_out_at IS NOT NULL) WHERE id = OLD.meeting_id;")
_SQLITE = [
    f"""CREATE TRIGGER IF NOT EXISTS checkin_count_insert AFTER INSERT ON {ATTENDANCE}
        WHEN NEW.checked_in_at IS NOT NULL OR NEW.checked_out_at IS NOT NULL BEGIN {_ADD} END""",
    f"""CREATE TRIGGER IF NOT EXISTS checkin_count_update AFTER UPDATE ON {ATTENDANCE}
        WHEN (OLD.checked_in_at IS NULL) <> (NEW.checked_in_at IS NULL)
             OR (OLD.checked_out_at IS NULL) <> (NEW.checked_out_at IS NULL) OR OLD.meeting_id <> NEW.meeting_id
        BEGIN {_SUBTRACT} {_ADD} END""",
    f"""CREATE TRIGGER IF NOT EXISTS checkin_count_delete AFTER DELETE ON {ATTENDANCE}
        WHEN OLD.checked_in_at IS NOT NULL OR OLD.checked_out_at IS NOT NULL BEGIN {_SUBTRACT} END""",
]


def install_triggers(connection=default_connection) -> None:
    """Idempotent; does nothing before the counts exist (a migration back past them)."""
    if MEETING not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        columns = {c.name for c in connection.introspection.get_table_description(cursor, MEETING)}
        if "present_count" not in columns:
            return
        for statement in _POSTGRES if connection.vendor == "postgresql" else _SQLITE:
            cursor.execute(statement)


def after_migrate(sender, using="default", **kwargs) -> None:
    from django.db import connections

    install_triggers(connections[using])


def recount(meetings) -> None:
    """Set the counts of `meetings` (a queryset) from their attendances: for a migration, or a repair."""
    from learntrace.checkin.models import Attendance

    counted = (Attendance.objects.filter(meeting__in=meetings).values("meeting_id")
               .annotate(present=Count("pk", filter=Q(checked_in_at__isnull=False)),
                         out=Count("pk", filter=Q(checked_out_at__isnull=False))).order_by())
    found = {row["meeting_id"]: row for row in counted}
    for meeting in meetings.only("pk"):
        row = found.get(meeting.pk, {"present": 0, "out": 0})
        type(meeting).objects.filter(pk=meeting.pk).update(present_count=row["present"], checked_out_count=row["out"])
