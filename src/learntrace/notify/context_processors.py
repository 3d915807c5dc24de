"""The number on the bell in the header, counted only when a page shows it."""

from django.utils.functional import SimpleLazyObject

from learntrace.org.access import roles_of


def unread_notifications(request):
    def count() -> int:
        from learntrace.notify.models import Notification

        employee_id = roles_of(getattr(request, "user", None)).employee_id
        if employee_id is None:
            return 0
        return Notification.objects.filter(employee_id=employee_id, read_at__isnull=True).count()

    return {"unread_notifications": SimpleLazyObject(count)}
