"""The image library on S3-compatible object storage, against a real S3 server process (moto) on loopback.

The storage settings are read from the environment exactly as a deployment sets them (MEDIA_S3_BUCKET, ...);
uploads, renditions, replacing a picture, the renditions command and the files' addresses all go through them.
"""

import os
import runpy
import subprocess
import sys
import time
import urllib.request
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from articles import images, renditions
from articles.models import Image
from tests.data import hostile_images as hostile
from tests.factories import library_image, member_of
from tests.servers import free_port
from tests.tools import missing, reachable

pytestmark = pytest.mark.django_db
BUCKET = "clinic-media-test"
SETTINGS = Path(__file__).resolve().parent.parent / "clinic_site" / "settings.py"
MOTO_SERVER = Path(sys.executable).parent / "moto_server"


@pytest.fixture(scope="module")
def s3_server():
    """Start moto's S3-compatible server on a free loopback port for this module, and stop it after."""
    if not MOTO_SERVER.exists():
        missing(f"moto_server is not installed at {MOTO_SERVER}: pip install -r requirements-dev.txt")
    port = free_port()
    process = subprocess.Popen(
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while not reachable("127.0.0.1", port):
            if process.poll() is not None or time.monotonic() > deadline:
                missing(f"moto_server did not start on 127.0.0.1:{port}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def storage_from_environment(**environment) -> dict:
    """Return STORAGES["default"] as settings.py builds it from this environment (and no MEDIA_ variable else)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MEDIA_")}
    with mock.patch.dict(os.environ, {**base, **environment}, clear=True):
        return runpy.run_path(str(SETTINGS))["STORAGES"]["default"]


@pytest.fixture
def s3(s3_server, settings, monkeypatch):
    """Point the default storage at a new, empty bucket on the server, configured as a deployment would be."""
    import boto3

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    storage = storage_from_environment(
        MEDIA_S3_BUCKET=BUCKET, MEDIA_S3_ENDPOINT_URL=s3_server, MEDIA_S3_REGION="us-east-1"
    )
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client) -> dict[str, str]:
    return {item["Key"]: item["ETag"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_the_environment_chooses_the_filesystem_by_default_and_s3_when_a_bucket_is_named():
    assert storage_from_environment() == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    s3 = storage_from_environment(MEDIA_S3_BUCKET="media", MEDIA_CDN_DOMAIN="media.clinic.example")
    assert s3["BACKEND"] == "storages.backends.s3.S3Storage"
    assert s3["OPTIONS"]["custom_domain"] == "media.clinic.example"
    assert s3["OPTIONS"]["querystring_auth"] is False  # the CDN serves them: no signed, expiring addresses
    assert s3["OPTIONS"]["file_overwrite"] is False
    assert "immutable" in s3["OPTIONS"]["object_parameters"]["CacheControl"]
    assert storage_from_environment(MEDIA_S3_BUCKET="media")["OPTIONS"]["querystring_auth"] is True


def test_an_upload_stores_its_original_and_renditions_in_the_bucket_and_they_can_be_fetched(s3):
    image = library_image(hostile.picture("JPEG", size=(900, 600)), "wound.jpg")
    rows = list(image.current_renditions())
    assert {(r.format, r.width) for r in rows} == {(f, w) for f in ("JPEG", "WEBP") for w in (320, 640, 900)}
    assert set(keys(s3)) == {image.file.name, *(r.file for r in rows)}
    head = s3.head_object(Bucket=BUCKET, Key=rows[0].file)
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    assert head["ContentLength"] == rows[0].file_size
    address = renditions.url(rows[0].file)
    assert address.startswith(f"{s3.meta.endpoint_url}/{BUCKET}/{rows[0].file}?")  # signed: the bucket is private
    with urllib.request.urlopen(address, timeout=10) as response:  # noqa: S310 (loopback, our own server)
        assert images.clean_image(response.read(), rows[0].file).width == rows[0].width


def test_behind_a_cdn_the_addresses_are_the_cdns(s3, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {
            **settings.STORAGES["default"]["OPTIONS"], "custom_domain": "media.clinic.example",
            "querystring_auth": False}},
    }  # fmt: skip
    image = library_image(hostile.picture("PNG", size=(400, 200)), "chart.png")
    rendition = image.current_renditions().first()
    assert renditions.url(rendition.file) == f"https://media.clinic.example/{rendition.file}"


def test_replacing_a_picture_in_the_bucket_leaves_every_old_object_as_it_was(s3):
    image = library_image(hostile.picture("PNG", size=(700, 350)), "chart.png")
    before = keys(s3)
    replacement = images.clean_image(hostile.picture("PNG", size=(300, 300)), "v2.png")
    renditions.save_upload(image, replacement, save=image.save)
    after = keys(s3)
    assert {key: after[key] for key in before} == before
    assert len(after) == len(before) + 3  # the new original, and a PNG and a WebP at its own 300 px


def test_the_renditions_command_reads_the_original_from_the_bucket(s3):
    image = library_image(hostile.picture("PNG", size=(700, 350)), "chart.png")
    image.renditions.all().delete()
    call_command("make_image_renditions", stdout=StringIO())
    assert image.current_renditions().count() == 6


def test_the_admin_stores_an_upload_in_the_bucket_and_nothing_of_a_refused_one(s3):
    client = Client()
    client.force_login(member_of("Writers"))
    url = reverse("admin:articles_image_add")
    fields = {"title": "Wound", "alt_text": "A healing wound on a forearm", "consents-TOTAL_FORMS": "0",
              "consents-INITIAL_FORMS": "0"}  # fmt: skip
    refused = client.post(url, {**fields, "upload": SimpleUploadedFile("wound.jpg", hostile.content("jpeg-then-zip"))})
    assert refused.status_code == 200
    assert images.HIDDEN_CONTENT.format(what="a ZIP archive") in refused.content.decode()
    assert keys(s3) == {}
    assert not Image.objects.exists()
    saved = client.post(url, {**fields, "upload": SimpleUploadedFile("wound.jpg", hostile.picture("JPEG"))})
    assert saved.status_code == 302
    assert Image.objects.get().file.name in keys(s3)
