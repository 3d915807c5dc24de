"""Sent inside the transaction that records or voids a completion, so that apps above records
(webhooks) can store what they owe the outside world together with the fact, or not at all."""

from django.dispatch import Signal

completion_recorded = Signal()  # sender: Completion, completion=Completion
completion_voided = Signal()  # sender: Correction, completion=Completion, correction=Correction
