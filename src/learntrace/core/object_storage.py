"""S3-compatible object storage (MinIO, Ceph, Aliyun OSS, Tencent COS, AWS S3…) as the storage every node
shares, read from the S3_* settings (docs/deployment.md). Imported by settings.py before the apps load.

Unset, the shared folder is used as before. Once any S3_* variable is set, the required ones must all be:
a node that would write half of its files to a folder only it sees must not start."""

import ipaddress
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

REQUIRED = ("S3_BUCKET", "S3_ENDPOINT_URL", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY")
OPTIONAL = ("S3_REGION", "S3_PREFIX", "S3_ADDRESSING_STYLE", "S3_URL_SECONDS")
BACKEND = "learntrace.core.bucket.BucketStorage"  # django-storages' S3 backend with short timeouts
# Bigger files read back (an import, a video whose length is checked) spool to disk instead of memory.
SPOOL_TO_DISK_BYTES = 5 * 1024 * 1024


def s3_storage(read: Callable[[str], str | None]) -> dict[str, Any] | None:
    """The STORAGES entry of the bucket, or None when no S3_* variable is set. `read` is settings' env()."""
    values = {name: (read(name) or "").strip() for name in (*REQUIRED, *OPTIONAL)}
    if not any(values.values()):
        return None
    missing = [name for name in REQUIRED if not values[name]]
    if missing:
        raise ImproperlyConfigured(
            f"S3 object storage is half configured: {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set. Set {', '.join(REQUIRED)} "
            "(docs/deployment.md), or none of the S3_* variables to keep the files in SHARED_DIR.")
    endpoint = urlsplit(values["S3_ENDPOINT_URL"])
    if endpoint.scheme not in ("http", "https") or not endpoint.hostname:
        raise ImproperlyConfigured(f"S3_ENDPOINT_URL={values['S3_ENDPOINT_URL']!r} is not an address like "
                                   "https://minio.example.com:9000.")
    style = values["S3_ADDRESSING_STYLE"] or "path"
    if style not in ("path", "virtual"):
        raise ImproperlyConfigured(f"S3_ADDRESSING_STYLE={style!r}: use path or virtual.")
    seconds = values["S3_URL_SECONDS"] or "300"
    if not seconds.isdigit() or not 10 <= int(seconds) <= 3600:
        raise ImproperlyConfigured(f"S3_URL_SECONDS={seconds!r} is not a number of seconds from 10 to 3600.")
    return {
        "BACKEND": BACKEND,
        "OPTIONS": {
            "bucket_name": values["S3_BUCKET"],
            "endpoint_url": values["S3_ENDPOINT_URL"].rstrip("/"),
            "access_key": values["S3_ACCESS_KEY_ID"],
            "secret_key": values["S3_SECRET_ACCESS_KEY"],
            "region_name": values["S3_REGION"] or "us-east-1",
            "location": values["S3_PREFIX"].strip("/"),
            "addressing_style": style,
            "signature_version": "s3v4",
            "default_acl": None,  # the bucket stays private: every read is a presigned link
            "querystring_auth": True,
            "querystring_expire": int(seconds),
            "file_overwrite": False,  # two courses' "intro.mp4" must stay two files, as on a disk
            "max_memory_size": SPOOL_TO_DISK_BYTES,
        },
    }


def origin_of(storage: dict[str, Any] | None) -> str:
    """Where the presigned links of `storage` point (scheme://host[:port]), for the Content-Security-Policy;
    "" for the shared folder."""
    if storage is None:
        return ""
    options = storage["OPTIONS"]
    endpoint = urlsplit(options["endpoint_url"])
    host = endpoint.netloc
    if options["addressing_style"] == "virtual" and not _is_address(endpoint.hostname or ""):
        host = f"{options['bucket_name']}.{host}"  # an IP address cannot carry the bucket: boto3 keeps the path
    return f"{endpoint.scheme}://{host}"


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
