"""What a load balancer or an orchestrator asks each node.

Liveness: the process answers (nothing else is touched, so a database outage never gets healthy web
processes restarted). Readiness: this node can do its work now — the database answers, the task queue's
storage answers, the shared storage of files answers (the bucket, or the folder every node mounts), and the
node shares the installation's keys (core/node_keys.py)."""

import os

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from huey.contrib.djhuey import HUEY

from learntrace.core import node_keys, object_storage
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
    found["storage"] = _storage()
    if found["database"] == "ok":
        try:
            node_keys.verify()
            found["keys"] = "ok"
        except node_keys.KeyProblem as problem:
            found["keys"] = str(problem)
    return found


def _storage() -> str:
    """Whether this node can reach the files every node shares: a node that cannot would take uploads it
    loses, or send learners to videos it cannot find."""
    if settings.STORAGES["default"]["BACKEND"] == object_storage.BACKEND:
        from botocore.exceptions import BotoCoreError, ClientError  # only with a bucket configured

        try:
            default_storage.connection.meta.client.head_bucket(Bucket=default_storage.bucket_name)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            return {"404": "bucket missing (S3_BUCKET)", "403": "bucket refused this node's S3 credentials"}.get(
                code, f"bucket refused: {code or type(exc).__name__}")
        except BotoCoreError as exc:
            return f"bucket unavailable: {type(exc).__name__}"
        return "ok"
    # The media folder is made on the first upload; the shared folder itself (a mount on several nodes) must be
    # there, or this node would write to its own disk what the other nodes look for on the mount.
    folder = settings.MEDIA_ROOT if os.path.isdir(settings.MEDIA_ROOT) else settings.MEDIA_ROOT.parent
    if not os.path.isdir(folder):
        return "shared folder (SHARED_DIR) does not exist on this node"
    if not os.access(folder, os.W_OK | os.X_OK):
        return "shared folder (SHARED_DIR) is not writable by this node"
    return "ok"
