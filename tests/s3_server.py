"""A real S3 server on this machine for the object-storage tests: moto's server (`python -m moto.server`) in its
own process on a free port of 127.0.0.1, and a new bucket per test that learntrace's default storage is
pointed at through the same S3_* settings a deployment sets."""

import socket
import subprocess
import sys
import time
import uuid
from types import SimpleNamespace

import boto3
import pytest
from botocore.config import Config

from learntrace.core.object_storage import origin_of, s3_storage

ACCESS_KEY, SECRET_KEY = "learntrace-test", "learntrace-test-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
def s3_server():
    """The address of a running moto server; stopped when the tests end."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the local S3 server (moto) did not start")
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


def s3_environment(endpoint: str, bucket: str, prefix: str = "learntrace") -> dict[str, str]:
    return {"S3_BUCKET": bucket, "S3_ENDPOINT_URL": endpoint, "S3_ACCESS_KEY_ID": ACCESS_KEY,
            "S3_SECRET_ACCESS_KEY": SECRET_KEY, "S3_REGION": "us-east-1", "S3_PREFIX": prefix}


@pytest.fixture
def bucket(s3_server, settings):
    """A new, empty bucket that is learntrace's default storage for this test. `keys()` lists what it holds,
    `read(key)` an object's bytes; keys are the full object keys, the prefix included."""
    name = f"lt-{uuid.uuid4().hex[:12]}"
    environment = s3_environment(s3_server, name)
    client = boto3.client("s3", endpoint_url=s3_server, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                          region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))
    client.create_bucket(Bucket=name)
    storage = s3_storage(environment.get)
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    settings.S3_ORIGIN = origin_of(storage)

    def keys() -> list[str]:
        return sorted(item["Key"] for item in client.list_objects_v2(Bucket=name).get("Contents", []))

    def read(key: str) -> bytes:
        return client.get_object(Bucket=name, Key=key)["Body"].read()

    return SimpleNamespace(name=name, endpoint=s3_server, environment=environment, client=client, keys=keys,
                           read=read, prefix="learntrace/")
