"""django-auth-ldap's settings from learntrace's LDAP_* settings (README, "Signing in"). Separate
from `ldap.py` so that settings.py can import it before the apps are loaded."""


def auth_ldap_settings(*, server_uri: str, bind_dn: str, bind_password: str, search_base: str,
                       user_attribute: str, start_tls: bool, timeout_seconds: int) -> dict:
    import ldap
    from django_auth_ldap.config import LDAPSearch

    return {
        "AUTH_LDAP_SERVER_URI": server_uri,
        "AUTH_LDAP_BIND_DN": bind_dn,
        "AUTH_LDAP_BIND_PASSWORD": bind_password,
        # The typed username is escaped by django-auth-ldap before it enters the filter.
        "AUTH_LDAP_USER_SEARCH": LDAPSearch(search_base, ldap.SCOPE_SUBTREE, f"({user_attribute}=%(user)s)"),
        "AUTH_LDAP_START_TLS": start_tls,
        "AUTH_LDAP_CONNECTION_OPTIONS": {ldap.OPT_NETWORK_TIMEOUT: timeout_seconds, ldap.OPT_TIMEOUT: timeout_seconds,
                                         ldap.OPT_REFERRALS: 0},
        # learntrace's employees come from the organisation, never from the directory: nothing is copied
        # into the account and no account is created (see ldap.EmployeeLDAPBackend).
        "AUTH_LDAP_USER_ATTR_MAP": {},
        "AUTH_LDAP_ALWAYS_UPDATE_USER": False,
        "AUTH_LDAP_NO_NEW_USERS": True,
        "AUTH_LDAP_CACHE_TIMEOUT": 0,
    }
