"""Saving rule sets, with the audit trail."""

from django.db import transaction

from learntrace.core.audit import delete_with_audit, record_change, save_with_audit
from learntrace.creditrules.models import CreditRuleSet


@transaction.atomic
def save_rule_set(*, actor, form, lines, caps) -> CreditRuleSet:
    rule_set = save_with_audit(actor=actor, form=form)
    for formset, what in ((lines, "lines"), (caps, "caps")):
        formset.instance = rule_set
        if formset.has_changed():
            formset.save()
            record_change(actor=actor, action="update", obj=rule_set, summary=f"{rule_set}: {what}",
                          changes={what: ("", "; ".join(str(row) for row in getattr(rule_set, what).all()))})
    return rule_set


def delete_rule_set(*, actor, rule_set: CreditRuleSet) -> None:
    delete_with_audit(actor=actor, obj=rule_set, summary=str(rule_set))
