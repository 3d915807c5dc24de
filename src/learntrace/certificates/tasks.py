"""Background work of certificates: issuing what was earned, reminding before expiry."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from learntrace.certificates import reminders, services
from learntrace.core.locks import one_at_a_time
from learntrace.exams.models import ExamResult


@db_periodic_task(crontab(minute="*/5"))
@one_at_a_time("certificates-issue")
def issue_due_certificates() -> None:
    services.issue_due()


@db_periodic_task(crontab(minute="*/15"))
@one_at_a_time("certificates-remind")
def remind_expiring_certificates() -> None:
    reminders.send_due()


@db_task()
def issue_for_result(result_id: int) -> None:
    result = ExamResult.objects.filter(pk=result_id).first()
    if result is not None:
        services.issue_for_result(result=result)


def on_result_recorded(sender, result, **kwargs) -> None:
    if result.passed:
        issue_for_result(result.pk)
