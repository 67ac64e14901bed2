"""A real S3 server for the suite: moto's standalone server on 127.0.0.1, started once per session as a
subprocess and stopped by its PID; `s3_media` points default storage at a fresh bucket on it for one test.

moto does not check presigned signatures or expiry (measured: a corrupted signature still gets 200), so tests
of those check our own code, never moto's answer alone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ACCESS_KEY, SECRET_KEY, REGION = "atelier-test", "atelier-test-secret", "us-east-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint URL of a moto S3 server that lives as long as the session."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    server = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):  # noqa: S310 (our own server)
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not start (see {log.name})") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def s3_client(endpoint: str, *, secret_key: str = SECRET_KEY) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=secret_key,
        region_name=REGION,
        config=Config(signature_version="s3v4"),
    )


@dataclass
class S3Media:
    endpoint: str
    bucket: str
    client: Any
    cache_dir: Path

    def list_keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def env(self) -> dict[str, str]:
        """What a process on another host needs to reach the same bucket (config/settings.py reads these)."""
        return {
            "STORAGE_BACKEND": "s3",
            "AWS_STORAGE_BUCKET_NAME": self.bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_S3_REGION_NAME": REGION,
        }


def s3_storage_options(*, endpoint: str, bucket: str) -> dict[str, Any]:
    from django.conf import settings

    base = settings.STORAGES["default"].get("OPTIONS") or {}
    return {
        **base,
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        "region_name": REGION,
        "signature_version": "s3v4",
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": False,
    }


@pytest.fixture
def s3_media(moto_s3: str, settings: Any, tmp_path: Path) -> Iterator[S3Media]:
    """Default storage in a fresh, private bucket for this test, and a media cache of its own."""
    from django.core.files.storage import default_storage

    from core.media import media_is_remote

    bucket = f"atelier-{uuid.uuid4().hex[:16]}"
    client = s3_client(moto_s3)
    client.create_bucket(Bucket=bucket)
    settings.STORAGE_BACKEND = "s3"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": s3_storage_options(endpoint=moto_s3, bucket=bucket),
        },
    }
    settings.MEDIA_CACHE_DIR = str(tmp_path / "media-cache")
    assert media_is_remote(), type(default_storage._wrapped)
    yield S3Media(endpoint=moto_s3, bucket=bucket, client=client, cache_dir=tmp_path / "media-cache")
