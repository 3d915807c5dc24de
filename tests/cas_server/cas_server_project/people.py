"""The people this CAS server knows: a login, a password and the attributes it releases."""

import json
import os

from cas_server.auth import AuthUser

PEOPLE = json.loads(os.environ.get("CAS_TEST_PEOPLE", "{}"))


class PortalPerson(AuthUser):
    def test_password(self, password):
        person = PEOPLE.get(self.username)
        return person is not None and password == person["password"]

    def attributs(self):
        return dict(PEOPLE.get(self.username, {}).get("attributes", {}))
