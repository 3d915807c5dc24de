"""Changes an admin makes to sign-in data, each with its audit entry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from learntrace.accounts.models import LinkedIdentity
from learntrace.core.audit import record_change

if TYPE_CHECKING:
    from learntrace.core.audit import Actor


def unlink_identity(*, actor: Actor, identity: LinkedIdentity) -> None:
    """Forget the link: the account's next sign-in is matched against the organisation afresh."""
    with transaction.atomic():
        record_change(actor=actor, action="identity.unlink", obj=identity.employee,
                      summary=f"unlinked {identity.method} account {identity.subject} "
                              f"from {identity.employee.employee_no}")
        identity.delete()
