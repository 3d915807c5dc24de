"""Sent inside the transaction that stores a judgement, so that apps above compliance (webhooks)
can tell the outside world what was decided."""

from django.dispatch import Signal

# sender: PlanPeriod. period=PlanPeriod, whole=True when everyone of the period was judged (at the
# due day, at close, on an admin's request) rather than a few people after new facts, at=the moment,
# changed=[(Standing, compliant before, consequences before)] for those whose verdict or
# consequences changed.
period_judged = Signal()
