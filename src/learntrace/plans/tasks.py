"""Background work of plans: rolling periods over and following changes of the audience."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from learntrace.org.models import Employee
from learntrace.plans import services


@db_periodic_task(crontab(minute="*/10"))
def roll_over_plans() -> None:
    """Opens new periods shortly after midnight at month, quarter and year ends, and picks up
    anyone who joined an audience in a way no signal reported."""
    services.roll_over()


@db_task()
def sync_people(employee_ids) -> None:
    if employee_ids is None:
        services.roll_over()
        return
    for employee in Employee.objects.filter(pk__in=employee_ids):
        services.sync_employee(employee=employee)


def on_employees_changed(sender, employee_ids=None, **kwargs) -> None:
    sync_people(employee_ids)
