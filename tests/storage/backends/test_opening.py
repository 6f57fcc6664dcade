"""Choosing a backend: the storage URL, the S3 settings, and ``open_backend``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from tests.support.seaweed import Seaweed

from cleverfox.settings import Settings
from cleverfox.storage.backends import LocalBackend, RetryingBackend, open_backend, open_unretried
from cleverfox.storage.backends.location import LocalLocation, S3Location, parse_storage_url
from cleverfox.storage.backends.s3 import S3Backend

CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.upper().startswith("CLEVERFOX_")}


@pytest.mark.parametrize(
    ("url", "location"),
    [
        (None, LocalLocation()),
        ("", LocalLocation()),
        ("file:///var/lib/cleverfox/storage", LocalLocation(Path("/var/lib/cleverfox/storage"))),
        ("file://localhost/srv/backups%20x", LocalLocation(Path("/srv/backups x"))),
        ("s3://my-bucket", S3Location("my-bucket")),
        ("s3://my.bucket/cleverfox/prod/", S3Location("my.bucket", "cleverfox/prod")),
        (
            "s3://b01/p?endpoint=https://s3.example.test:9000/&region=eu-west-1&addressing=path",
            S3Location("b01", "p", "https://s3.example.test:9000", "eu-west-1", "path"),
        ),
        ("S3://bkt?region=us-east-2", S3Location("bkt", region="us-east-2")),
    ],
)
def test_storage_urls_name_a_location(url: str | None, location: object) -> None:
    assert parse_storage_url(url) == location


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/var/lib/storage", "must be file:///absolute/path or s3://bucket/prefix"),
        ("gs://bucket", "must be file:///absolute/path or s3://bucket/prefix"),
        ("file:relative/path", "absolute path"),
        ("file://server/share", "local path"),
        ("file:///x?y=1", "no query"),
        ("s3://", "bucket name"),
        ("s3://ab", "bucket name"),
        ("s3://Bucket", "bucket name"),
        ("s3://bad..bucket", "bucket name"),
        ("s3://192.168.1.1", "bucket name"),
        ("s3://bucket/Bad-Prefix", "prefix must be"),
        ("s3://bucket/a//b", "prefix must be"),
        ("s3://bucket?endpoint=ftp://host", "http:// or https://"),
        ("s3://bucket?endpoint=https://host/path", "no path or query"),
        ("s3://bucket?endpoint=https://host:99999", "invalid port"),
        ("s3://bucket?region=EU_WEST", "region"),
        ("s3://bucket?addressing=dns", "addressing must be"),
        ("s3://bucket?colour=blue", "unknown parameter 'colour'"),
        ("s3://bucket?region=a&region=b", "more than once"),
        ("s3://bucket?region", "malformed query"),
        ("s3://bucket#frag", "no fragment"),
    ],
)
def test_a_bad_storage_url_says_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_storage_url(url)


@pytest.mark.parametrize(
    "url",
    ["s3://AKIAKEY:TopSecret@bucket/prefix", "s3://bucket?endpoint=https://AKIAKEY:TopSecret@h"],
)
def test_credentials_in_the_url_are_refused_without_repeating_them(url: str) -> None:
    with pytest.raises(ValueError, match=r"S3 access key settings|CLEVERFOX_S3_ACCESS") as raised:
        parse_storage_url(url)

    assert "TopSecret" not in str(raised.value) and "AKIAKEY" not in str(raised.value)


def test_s3_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "CLEVERFOX_STORAGE_URL": "s3://bucket/prefix?region=eu-west-1",
        "CLEVERFOX_S3_ENDPOINT": "https://s3.example.test",
        "CLEVERFOX_S3_REGION": "eu-central-1",
        "CLEVERFOX_S3_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "CLEVERFOX_S3_SECRET_ACCESS_KEY": "TopSecret",
    }.items():
        monkeypatch.setenv(key, value)

    settings = Settings()

    assert settings.storage_location == S3Location("bucket", "prefix", region="eu-west-1")
    assert settings.s3_endpoint == "https://s3.example.test"
    assert settings.s3_secret_access_key is not None
    assert settings.s3_secret_access_key.get_secret_value() == "TopSecret"
    assert "TopSecret" not in repr(settings) and "TopSecret" not in str(settings)
    assert "AKIAEXAMPLE" not in repr(settings)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"storage_url": "gs://x"}, "storage URL must be"),
        ({"s3_region": "eu-west-1"}, "need an s3:// --storage-url"),
        ({"storage_url": "s3://bucket", "s3_access_key_id": "AKIA"}, "go together"),
        ({"storage_url": "s3://bucket", "s3_endpoint": "s3.example.test"}, "http:// or https://"),
    ],
)
def test_bad_storage_settings_are_refused(values: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**values)  # type: ignore[arg-type]


def test_a_bad_storage_url_is_a_one_line_start_up_error_not_a_traceback(tmp_path: Path) -> None:
    env = {**CLEAN_ENV, "CLEVERFOX_S3_SECRET_ACCESS_KEY": "TopSecret"}
    result = subprocess.run(
        [sys.executable, "-m", "cleverfox", "serve", "--data-dir", str(tmp_path),
         "--storage-url", "s3://AKIAKEY:TopSecret@bucket"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "credentials do not belong in the storage URL" in result.stderr
    assert "TopSecret" not in result.stderr + result.stdout
    assert not (tmp_path / "storage").exists()


def test_by_default_storage_is_the_data_directory_s_storage_folder(tmp_path: Path) -> None:
    backend = open_backend(Settings(data_dir=tmp_path / "data"))

    assert isinstance(backend, RetryingBackend)
    assert isinstance(backend.wrapped, LocalBackend)
    assert backend.describe() == f"local directory {(tmp_path / 'data' / 'storage').resolve()}"
    backend.probe()


def test_a_file_url_names_the_directory(tmp_path: Path) -> None:
    backend = open_unretried(Settings(storage_url=(tmp_path / "elsewhere").as_uri()))

    assert isinstance(backend, LocalBackend)
    assert backend.root == tmp_path / "elsewhere"
    assert backend.root.is_dir()


def test_an_s3_url_and_settings_open_a_working_bucket(seaweed: Seaweed) -> None:
    settings = Settings(
        storage_url=f"s3://{seaweed.bucket}/opened?endpoint=http://wrong.invalid&addressing=path",
        s3_endpoint=seaweed.endpoint,
        s3_access_key_id=seaweed.access_key_id,  # type: ignore[arg-type]
        s3_secret_access_key=seaweed.secret_access_key,  # type: ignore[arg-type]
    )

    backend = open_backend(settings)

    assert isinstance(backend.wrapped, S3Backend)
    backend.probe()
    assert backend.describe() == f"S3 bucket {seaweed.bucket}, prefix opened/ at {seaweed.endpoint}"


def test_the_local_backend_does_not_import_botocore(tmp_path: Path) -> None:
    script = (
        "import sys; from cleverfox.settings import Settings; "
        "from cleverfox.storage.backends import open_backend; "
        f"open_backend(Settings(data_dir={str(tmp_path)!r})).probe(); "
        "print(sorted(m for m in sys.modules if m.startswith(('botocore', 'boto3'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=CLEAN_ENV, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"
