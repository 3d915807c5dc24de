"""The demo database of `learntrace demo`: the two organisations of the source article
(a tech company with 50 managers and a hospital with 30 department heads), their
courses and plans, and a few months of history so that every page shows something real."""

from django.db import transaction
from django.utils import timezone


@transaction.atomic
def load_demo(now=None) -> list[tuple[str, str, str]]:
    from learntrace.demo.learning import load_learning
    from learntrace.demo.organisation import load_organisation
    from learntrace.demo.reminders import load_reminders

    accounts = load_organisation()
    from learntrace.compliance import services as compliance

    now = now or timezone.now()
    load_learning(now)
    from learntrace.demo.continuing_education import load_continuing_education

    load_continuing_education(now)
    # Past months are judged and frozen, the current month's figures are ready for the pages.
    compliance.process_periods(now=now)
    compliance.refresh_changed(now=now)
    load_reminders()
    from learntrace.demo.exams import load_exams

    load_exams(now)  # after the reminders: its certificate reminds through their channels
    # The demo's history is evidence like any other: sealed, so that `verify` covers all of it.
    from learntrace.evidence.services import seal_pending

    seal_pending(via="demo")
    return accounts
