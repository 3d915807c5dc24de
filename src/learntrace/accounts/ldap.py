"""LDAP / Active Directory sign-in through the login form (django-auth-ldap does the search and bind).

The directory proves the password; the organisation decides who it is: the account's employee-number
attribute must match exactly one active employee (signin.match_employee), whose own login account is
used. Nobody is created from the directory. A refusal is kept on the request, and the login view
answers it with the refusal page and a log entry; the password throttle counts it as a failure.
"""

from django.conf import settings
from django_auth_ldap.backend import LDAPBackend, ldap_error

from learntrace.accounts.models import Method
from learntrace.accounts.signin import Refusal, account_of, match_employee

REFUSAL_ATTRIBUTE = "ldap_refusal"


class EmployeeLDAPBackend(LDAPBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not settings.LDAP_SERVER_URI and not getattr(settings, "AUTH_LDAP_SERVER_URI", ""):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def authenticate_ldap_user(self, ldap_user, password):
        try:
            user = ldap_user.authenticate(password)
        except Refusal as refusal:
            _note(ldap_user._request, refusal)
            return None
        if user is not None:
            user.sign_in_method = Method.LDAP
        return user

    def get_or_build_user(self, username, ldap_user):
        values = ldap_user.attrs.get(settings.LDAP_EMPLOYEE_NO_ATTRIBUTE) or []
        employee = match_employee(Method.LDAP, ldap_user.dn.lower(), field="employee_no",
                                  value=values[0] if values else "")
        return account_of(employee), False


def _note(request, refusal: Refusal) -> None:
    if request is not None and not hasattr(request, REFUSAL_ATTRIBUTE):
        setattr(request, REFUSAL_ATTRIBUTE, refusal)


def _directory_unreachable(sender, context, user, request, exception, **kwargs):
    # django-auth-ldap reports every LDAP error here and then answers "wrong password"; the person
    # should hear that the directory failed instead. A rejected password is not reported here.
    _note(request, Refusal("ldap"))


ldap_error.connect(_directory_unreachable, sender=EmployeeLDAPBackend)
