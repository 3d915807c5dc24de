"""Sent inside the transaction that records or voids a completion, so that apps above records
(webhooks) can store what they owe the outside world together with the fact, or not at all."""

from django.dispatch import Signal

completion_recorded = Signal()  # sender: Completion, completion=Completion
completion_voided = Signal()  # sender: Correction, completion=Completion, correction=Correction
# An import of past records: all its completions at once, so that a receiver can store them in batches.
completions_imported = Signal()  # sender: Completion, completions=list[Completion]
time_corrected = Signal()  # sender: Correction, correction=Correction (credited seconds added or taken away)
outside_credit_recorded = Signal()  # sender: OutsideCredit, credit=OutsideCredit (approved credits from elsewhere)
