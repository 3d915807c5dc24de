import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "learntrace.settings")
application = get_wsgi_application()

from learntrace.core import node_keys  # noqa: E402  (needs the apps loaded above)

try:
    node_keys.verify()  # a web process with another node's keys must not serve (core/node_keys.py)
except node_keys.KeyProblem as problem:
    raise ImproperlyConfigured(str(problem)) from None
