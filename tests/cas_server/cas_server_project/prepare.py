"""Creates the CAS server's database and the services it accepts (every address under the tested
sites, with all attributes released and single sign-out on)."""

import json
import os
import re

import django

django.setup()

from cas_server.models import ReplaceAttributName, ServicePattern  # noqa: E402
from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0, interactive=False)
for position, site in enumerate(json.loads(os.environ["CAS_TEST_SERVICES"]), start=1):
    pattern = ServicePattern.objects.create(pos=position, name=f"learntrace {position}",
                                            pattern=f"^{re.escape(site)}/", single_log_out=True)
    ReplaceAttributName.objects.create(name="*", service_pattern=pattern)
