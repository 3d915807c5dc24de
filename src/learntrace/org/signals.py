"""Signals other domains listen to, so that the organisation does not need to know them."""

from django.dispatch import Signal

# Sent after commit when people were created or changed. `employee_ids` lists them,
# or is None after a bulk import (anything may have changed).
employees_changed = Signal()
