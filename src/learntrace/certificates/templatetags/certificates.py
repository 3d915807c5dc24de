"""`{% certificates_held employee %}`: a person's certificates with their status (a revoked one with
the day and the reason), for the pages of apps below certificates (the training file), which name
this library in their templates instead of importing certificates."""

from django import template
from django.utils import timezone

from learntrace.certificates import services
from learntrace.certificates.models import Certificate

register = template.Library()


@register.inclusion_tag("certificates/_held.html")
def certificates_held(employee):
    now = timezone.now()
    held = list(Certificate.objects.filter(employee=employee).select_related("revocation"))
    for certificate in held:
        certificate.status = services.status(certificate, now)
    return {"certificates": held}
