"""The storage of an S3-compatible bucket (django-storages' S3 backend), with the client's patience set for
a web request: a bucket that does not answer is given up on in seconds, and the page says so (503),
instead of holding a web worker through boto3's default retries."""

from typing import Any

from botocore.config import Config
from storages.backends.s3 import S3Storage

CONNECT_SECONDS = 3
READ_SECONDS = 60  # one part of a large video's upload may take this long to be acknowledged
ATTEMPTS = 2  # the first and one retry


class BucketStorage(S3Storage):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.client_config = self.client_config.merge(Config(
            connect_timeout=CONNECT_SECONDS, read_timeout=READ_SECONDS,
            retries={"total_max_attempts": ATTEMPTS, "mode": "standard"}))
