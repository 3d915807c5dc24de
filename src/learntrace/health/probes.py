"""What a load balancer or an orchestrator asks each node.

Liveness: the process answers (nothing else is touched, so a database outage never gets healthy web
processes restarted). Readiness: this node can do its work now — the database answers, the task queue's
storage answers, and the node shares the installation's keys (core/node_keys.py)."""

from django.db import connection
from huey.contrib.djhuey import HUEY

from learntrace.core import node_keys
from learntrace.core.unavailable import UNAVAILABLE_ERRORS


def readiness() -> dict[str, str]:
    """{check: "ok" or what is wrong}; the node is ready when every value is "ok"."""
    found = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        found["database"] = "ok"
    except UNAVAILABLE_ERRORS as exc:
        found["database"] = f"unavailable: {type(exc).__name__}"
    try:
        HUEY.pending_count()
        found["task_queue"] = "ok"
    except UNAVAILABLE_ERRORS as exc:
        found["task_queue"] = f"unavailable: {type(exc).__name__}"
    if found["database"] == "ok":
        try:
            node_keys.verify()
            found["keys"] = "ok"
        except node_keys.KeyProblem as problem:
            found["keys"] = str(problem)
    return found
