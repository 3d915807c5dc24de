"""Sent inside the transaction of a check-in, check-out, manual entry, excuse or online presence
(not of a refused scan), so that apps above checkin (webhooks) can follow attendance."""

from django.dispatch import Signal

attendance_recorded = Signal()  # sender: CheckInEvent, event=CheckInEvent
