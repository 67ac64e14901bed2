"""STORAGE_BACKEND: the filesystem by default, django-storages' S3 backend when asked, refused half-configured."""

import subprocess
import sys

from tests.helpers import REPO

PRINT_STORAGE = (
    "from django.core.files.storage import default_storage as s; from core.media import media_is_remote; "
    "print(s.__class__.__name__, media_is_remote(), getattr(s, 'bucket_name', '-'), "
    "getattr(s, 'endpoint_url', '-'))"
)


def shell(tmp_path, **env: str) -> subprocess.CompletedProcess:
    base = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "HOME": "/tmp",
        "ATELIER_VAR_DIR": str(tmp_path / "var"),
    }
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", PRINT_STORAGE],
        cwd=REPO,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_media_is_on_the_filesystem_by_default(tmp_path):
    result = shell(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["FileSystemStorage", "False"]


def test_s3_settings_select_django_storages_s3_backend(tmp_path):
    result = shell(
        tmp_path,
        STORAGE_BACKEND="s3",
        AWS_STORAGE_BUCKET_NAME="atelier-media",
        AWS_S3_ENDPOINT_URL="http://127.0.0.1:9",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["S3Storage", "True", "atelier-media", "http://127.0.0.1:9"]


def test_s3_without_a_bucket_or_an_unknown_backend_refuses_to_start(tmp_path):
    missing = shell(tmp_path, STORAGE_BACKEND="s3")
    assert missing.returncode != 0 and "needs AWS_STORAGE_BUCKET_NAME" in missing.stderr
    unknown = shell(tmp_path, STORAGE_BACKEND="gcs")
    assert unknown.returncode != 0 and "STORAGE_BACKEND must be filesystem or s3" in unknown.stderr
