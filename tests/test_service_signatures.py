"""Services that change state take keyword arguments only (STYLE.md): a call reads as what it does,
`sync_employee(employee=…)`, and two arguments of one type cannot be swapped unnoticed."""

import inspect

import pytest

from learntrace.catalog import services as catalog
from learntrace.checkin import services as checkin
from learntrace.core import audit
from learntrace.creditrules import presets as credit_presets
from learntrace.creditrules import services as credit_rules
from learntrace.declarations import services as declarations
from learntrace.evidence import services as evidence
from learntrace.notify import services as notify
from learntrace.plans import services as plans
from learntrace.reports import services as reports


@pytest.mark.parametrize("service", [
    plans.check_publishable, plans.ensure_periods, plans.sync_assignments, plans.sync_employee, plans.save_plan,
    plans.plan_configure, notify.send_delivery, reports.run_export, reports.delete_expired_exports,
    evidence.record_verification, evidence.signed_seal, checkin.refuse, checkin.set_checkout, checkin.manual,
    catalog.add_question, catalog.remove_question, audit.save_with_audit, audit.delete_with_audit,
    credit_rules.save_rule_set, credit_rules.delete_rule_set, credit_presets.create_from_preset,
    declarations.declare, declarations.resubmit, declarations.approve, declarations.return_for_changes,
    declarations.enter_for_attendees,
], ids=lambda service: f"{service.__module__}.{service.__name__}")
def test_the_service_takes_keyword_arguments_only(service):
    kinds = {parameter.kind for parameter in inspect.signature(service).parameters.values()}
    assert kinds <= {inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_KEYWORD}
