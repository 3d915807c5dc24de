"""Sent once a result is committed, so that apps above exams (certificates) can act on it."""

from django.dispatch import Signal

result_recorded = Signal()  # sender: ExamResult, result=ExamResult
