"""Background work of signing in: sending activation and reset links."""

from huey.contrib.djhuey import db_task

from learntrace.accounts import links


@db_task()
def send_batch(batch_id) -> None:
    links.run_batch(batch_id)


@db_task()
def send_reset(employee_id) -> None:
    links.send_reset(employee_id)
