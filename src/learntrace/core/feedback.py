"""Telling the person what a service refused, on the next page."""

from django.contrib import messages
from django.core.exceptions import ValidationError


def show_errors(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)
