"""Media on S3-compatible object storage (django-storages' S3Storage), against moto's S3
server running on 127.0.0.1 in this process (``moto.server.ThreadedMotoServer``).

What a province that outgrows one machine relies on: a media worker that shares no folder
with the web server fetches the upload from the bucket, transcodes it with ffmpeg and puts
the renditions back; loudspeakers download them through the device API, listeners and feed
readers through the bucket's own URLs; Wagtail's images and documents live there too.
What moto does not prove is listed in docs/deploy.md ("S3-compatible storage").
"""

import hashlib
import io
import logging
import os
import re
import uuid
from datetime import timedelta
from pathlib import Path

import boto3
import feedparser
import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.test import Client
from django.utils import timezone
from PIL import Image as PILImage

from cms.settings.base import s3_storage_options
from media.models import MediaAsset, Rendition
from media.services import asset_create, rendition_build
from tests.factories import (
    make_audio,
    make_audio_asset,
    make_device,
    make_published_item,
    make_tree,
    make_upload,
    make_user,
)
from tests.support import wait_for
from tests.workers import start_worker, stop_worker

ACCESS_KEY, SECRET_KEY, REGION = "nguon-test", "nguon-test-secret", "us-east-1"


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 API on a free port of 127.0.0.1, for this module."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per S3 request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


class Bucket:
    def __init__(self, endpoint: str, name: str, env: dict[str, str]):
        self.endpoint, self.name, self.env = endpoint, name, env
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def keys(self) -> set[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return {obj["Key"] for page in pages for obj in page.get("Contents", [])}

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch, tmp_path):
    """A fresh bucket, and this process's default storage pointed at it through the same
    S3_* variables a deployment sets. MEDIA_ROOT points at a folder that must stay empty."""
    name = f"nguon-{uuid.uuid4().hex[:10]}"
    env = {
        "STORAGE_BACKEND": "storages.backends.s3.S3Storage",
        "S3_BUCKET": name,
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_REGION": REGION,
        "S3_ACCESS_KEY_ID": ACCESS_KEY,
        "S3_SECRET_ACCESS_KEY": SECRET_KEY,
        "S3_ADDRESSING_STYLE": "path",
        # Renditions are linked from public pages and feeds by their plain URL.
        "S3_DEFAULT_ACL": "public-read",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    b = Bucket(s3_endpoint, name, env)
    b.client.create_bucket(Bucket=name)
    settings.STORAGES = {
        "default": {"BACKEND": env["STORAGE_BACKEND"], "OPTIONS": s3_storage_options()},
        "staticfiles": settings.STORAGES["staticfiles"],
    }
    settings.MEDIA_ROOT = tmp_path / "no-local-media"
    settings.NGUON_MEDIA_WORK_DIR = ""  # the object store's default: the system temp folder
    yield b
    assert not settings.MEDIA_ROOT.exists(), "something was written under MEDIA_ROOT"


def local_files(root: Path, marker: str) -> list[Path]:
    return [p for p in root.rglob("*") if marker in p.name] if root.exists() else []


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.slow
def test_a_media_worker_sharing_no_folder_transcodes_from_the_bucket_into_the_bucket(
    bucket, settings, tmp_path
):
    from cms.celery import app

    queue = "media-s3test"  # a private queue: the session worker has the local storage
    settings.NGUON_MEDIA_QUEUE = queue
    work = tmp_path / "worker-work"
    log = tmp_path / "worker.log"
    worker = start_worker(queue, log, NGUON_MEDIA_QUEUE=queue, NGUON_MEDIA_WORK_DIR=str(work),
                          **bucket.env)  # fmt: skip
    worker_media_root = Path(os.environ["NGUON_TEST_VAR_DIR"]) / "media"
    app.conf.task_always_eager = False
    try:
        source = make_audio(tmp_path / "ban-tin-sang", seconds=20, channels=2, fmt="wav")
        asset = asset_create(upload=make_upload(source), kind="audio")  # queued on commit
        done = wait_for(
            lambda: MediaAsset.objects.filter(
                pk=asset.pk, status__in=[MediaAsset.Status.READY, MediaAsset.Status.FAILED]
            ).first(),
            timeout=240,
            what="the S3 worker to finish",
        )
    finally:
        app.conf.task_always_eager = True
        stop_worker(worker)

    assert done.status == MediaAsset.Status.READY, done.error + log.read_text()[-3000:]
    # The upload went to the bucket, byte for byte.
    assert done.file.name.startswith("assets/")
    assert bucket.read(done.file.name) == source.read_bytes()
    renditions = {r.profile: r for r in Rendition.objects.filter(asset=done)}
    assert set(renditions) == {"loudspeaker", "broadcast_audio", "web_audio", "waveform"}
    keys = bucket.keys()
    for profile, rendition in renditions.items():
        assert rendition.status == Rendition.Status.READY, (profile, rendition.error)
        assert rendition.file.name in keys
        data = bucket.read(rendition.file.name)
        assert len(data) == rendition.size and hashlib.sha256(data).hexdigest() == rendition.sha256
    # The loudspeaker MP3 in the bucket is what loudspeakers need: mono, at its target.
    import av

    with av.open(io.BytesIO(bucket.read(renditions["loudspeaker"].file.name))) as container:
        assert container.format.name == "mp3"
        assert container.streams.audio[0].codec_context.channels == 1
    assert abs(renditions["loudspeaker"].loudness["integrated"] - (-16.0)) <= 1.0
    # The worker fetched the source into its work folder and cleaned up; nothing of this
    # asset was written under either process's MEDIA_ROOT.
    assert f"asset {done.pk} processed by" in log.read_text()
    assert not local_files(work, "")
    assert not local_files(worker_media_root, done.uuid.hex)
    assert not local_files(Path(settings.MEDIA_ROOT), done.uuid.hex)


@pytest.fixture
def bulletin(bucket, tmp_path):
    """An approved audio bulletin of commune A, transcoded (in this process) into the bucket
    and scheduled on A's loudspeakers; a device of A."""
    from broadcast.services import programme_create

    units = make_tree(three_level=True)
    asset = make_audio_asset(tmp_path / "a", seconds=3, name="ban-tin")  # + loudspeaker MP3
    rendition_build(asset_id=asset.pk, profile="web_audio")
    item = make_published_item(units["A"], "Bản tin xã A", audio=asset)
    programme_create(
        user=make_user("quantri", is_superuser=True, is_staff=True),
        name="Chương trình xã A",
        targets=[{"unit": units["A"]}],
        slots=[{"starts_at": timezone.now() + timedelta(minutes=10), "items": [item.pk]}],
    )
    device, token = make_device(units["A"], "LOA-S3")
    return {"item": item, "asset": asset, "device": device, "token": token}


@pytest.mark.django_db
def test_a_loudspeaker_downloads_its_bulletin_from_the_bucket_through_the_device_api(
    bulletin, bucket, client: Client
):
    device, token = bulletin["device"], bulletin["token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    loudspeaker = bulletin["asset"].rendition("loudspeaker")
    assert loudspeaker.file.name in bucket.keys()
    response = client.get(f"/api/v1/devices/{device.pk}/timeline", **auth)
    assert response.status_code == 200
    (part,) = [p for e in response.json()["entries"] for p in e["parts"] if p["type"] == "audio"]
    # Streamed by the server (devices keep their token, ETag, Digest and Range).
    response = client.get(part["url"], **auth)
    assert response.status_code == 200 and response["Content-Type"] == "audio/mpeg"
    data = b"".join(response.streaming_content)
    assert len(data) == part["size"] and hashlib.sha256(data).hexdigest() == part["sha256"]
    assert data == bucket.read(loudspeaker.file.name)
    # A download resumed after byte 1000.
    resumed = client.get(part["url"], HTTP_RANGE="bytes=1000-", HTTP_IF_RANGE=response["ETag"],
                         **auth)  # fmt: skip
    assert resumed.status_code == 206
    assert resumed.content == data[1000:]
    assert resumed["Content-Range"] == f"bytes 1000-{len(data) - 1}/{len(data)}"
    # Gone from the bucket: a JSON 404, not a crash.
    bucket.client.delete_object(Bucket=bucket.name, Key=loudspeaker.file.name)
    gone = client.get(part["url"], **auth)
    assert gone.status_code == 404 and "error" in gone.json()


@pytest.mark.django_db
def test_feeds_and_the_portal_link_the_bucket_and_a_listener_gets_the_file(
    bulletin, bucket, client: Client
):
    web = bulletin["asset"].rendition("web_audio")
    feed = feedparser.parse(client.get("/feeds/podcast/").content)
    (episode,) = feed.entries
    (enclosure,) = episode.enclosures
    assert enclosure["href"].startswith(f"{bucket.endpoint}/{bucket.name}/renditions/")
    # A podcast app fetches the enclosure from the bucket, with no credentials.
    got = requests.get(enclosure["href"], timeout=30)
    assert got.status_code == 200
    assert int(enclosure["length"]) == len(got.content) == web.size
    assert hashlib.sha256(got.content).hexdigest() == web.sha256

    page = client.get(bulletin["item"].public_path)
    assert page.status_code == 200
    sources = re.findall(r'<source src="([^"]+)" type="audio/', page.content.decode())
    assert sources and all(s.startswith(f"{bucket.endpoint}/{bucket.name}/") for s in sources)
    for src in sources:
        assert requests.get(src.replace("&amp;", "&"), timeout=30).status_code == 200


@pytest.mark.django_db
def test_wagtail_images_documents_and_readyz_use_the_bucket(bucket, client: Client, tmp_path):
    from wagtail.documents.models import Document
    from wagtail.images.models import Image

    picture = io.BytesIO()
    PILImage.new("RGB", (640, 480), (200, 30, 30)).save(picture, "JPEG")
    image = Image.objects.create(title="Ảnh", file=ImageFile(picture, name="anh.jpg"))
    assert image.file.name in bucket.keys()
    rendition = image.get_rendition("fill-160x120")
    assert rendition.file.name in bucket.keys()
    got = requests.get(rendition.url, timeout=30)  # as a reader's browser would
    assert got.status_code == 200
    assert PILImage.open(io.BytesIO(got.content)).size == (160, 120)

    document = Document.objects.create(
        title="Công văn", file=ContentFile(b"%PDF-1.4 cong van\n", name="cong-van.pdf")
    )
    assert document.file.name in bucket.keys()
    response = client.get(document.url)
    # Wagtail redirects to the storage's URL when files have no local path.
    assert response.status_code == 302
    assert response["Location"].startswith(f"{bucket.endpoint}/{bucket.name}/documents/")
    assert requests.get(response["Location"], timeout=30).content == b"%PDF-1.4 cong van\n"

    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.content
    assert not [k for k in bucket.keys() if k.startswith("readyz/")]  # written, then deleted


@pytest.mark.django_db(transaction=True)
def test_a_backup_of_the_bucket_restores_into_an_empty_bucket(
    bucket, settings, monkeypatch, tmp_path
):
    from django.core.management import call_command
    from django.db import connection

    from cms.backup import database_counts

    units = make_tree(three_level=False)
    asset = make_audio_asset(tmp_path / "src", seconds=1.0)
    make_published_item(units["A"], "Bản tin tiêm chủng", audio=asset)
    before = {k: hashlib.sha256(bucket.read(k)).hexdigest() for k in bucket.keys()}
    assert asset.file.name in before and asset.rendition("loudspeaker").file.name in before
    counts = database_counts()
    out = tmp_path / "backup"
    call_command("backup", output=str(out))

    # A new site: an empty bucket, an empty database.
    empty = Bucket(bucket.endpoint, f"nguon-{uuid.uuid4().hex[:10]}", bucket.env)
    empty.client.create_bucket(Bucket=empty.name)
    monkeypatch.setenv("S3_BUCKET", empty.name)
    settings.STORAGES = {
        "default": {"BACKEND": bucket.env["STORAGE_BACKEND"], "OPTIONS": s3_storage_options()},
        "staticfiles": settings.STORAGES["staticfiles"],
    }
    if connection.vendor == "postgresql":
        target = f"{settings.DATABASES['default']['NAME']}_s3restore"[:63]
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{target}"')
    else:
        target = str(tmp_path / "restored.sqlite3")
    try:
        call_command("restore", str(out), database=target, create_database=True,
                     interactive=False)  # fmt: skip
        assert database_counts(name=target) == counts
    finally:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
    # Every object is back under its own name, byte for byte; nothing went to MEDIA_ROOT.
    assert {k: hashlib.sha256(empty.read(k)).hexdigest() for k in empty.keys()} == before


@pytest.mark.parametrize(
    "extra, origins",
    [
        ({"S3_ENDPOINT_URL": "https://s3.hn-1.example.vn"},
         ["https://s3.hn-1.example.vn", "https://*.s3.hn-1.example.vn"]),
        ({"S3_ENDPOINT_URL": "http://10.0.0.5:9000", "S3_CUSTOM_DOMAIN": "media.tin.example.vn"},
         ["https://media.tin.example.vn"]),
        ({}, ["https://*.amazonaws.com"]),
    ],
)  # fmt: skip
def test_production_lets_portal_pages_play_and_show_media_from_the_bucket(extra, origins):
    """Without the bucket's origin in the Content-Security-Policy, a browser would refuse
    the portal's audio, video and pictures served from it."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "DEBUG"))}
    env.update(
        DJANGO_SETTINGS_MODULE="cms.settings.production",
        SECRET_KEY="q7Jx-2mR9vLk_T4pWz8bN3cYhF6sD1aGeU5oKi0-Zr8tQw2Ea6Yu1Io4PpXc",
        ALLOWED_HOSTS="tin.example.vn",
        STORAGE_BACKEND="storages.backends.s3.S3Storage",
        S3_BUCKET="nguon-media",
        **extra,
    )
    script = "import django; django.setup(); from django.conf import settings; "
    script += "print(settings.NGUON_CSP)"
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    directives = dict(d.strip().split(" ", 1) for d in proc.stdout.strip().split(";"))
    for directive in ("media-src", "img-src"):
        sources = directives[directive].split()
        assert all(origin in sources for origin in origins), (directive, sources)


@pytest.mark.django_db
def test_a_picture_uploaded_or_rebuilt_in_the_bucket_carries_no_gps(
    bucket, client: Client, django_user_model, django_capture_on_commit_callbacks
):
    from django.core.management import call_command
    from django.urls import reverse
    from wagtail.images.models import Image
    from wagtail.models import Collection

    from tests.factories import make_upload

    def gps_photo() -> bytes:
        exif = PILImage.Exif()
        exif[0x8825] = {1: "N", 2: (15.0, 52.0, 48.6), 3: "E", 4: (108.0, 19.0, 40.2)}
        buf = io.BytesIO()
        PILImage.new("RGB", (64, 48), (200, 30, 30)).save(buf, "JPEG", exif=exif)
        return buf.getvalue()

    def gps_in(key: str) -> dict:
        body = bucket.client.get_object(Bucket=bucket.name, Key=key)["Body"].read()
        return dict(PILImage.open(io.BytesIO(body)).getexif().get_ifd(0x8825))

    # Through the library's form, into the bucket.
    client.force_login(django_user_model.objects.create_superuser("anh_s3", "a@example.org", "x"))
    response = client.post(
        reverse("wagtailimages:add"),
        {"title": "Ảnh", "file": make_upload(gps_photo(), name="anh.jpg"),
         "description": "Chợ nổi", "collection": Collection.get_first_root_node().pk},
    )  # fmt: skip
    assert response.status_code == 302
    uploaded = Image.objects.get()
    assert uploaded.file.name in bucket.keys() and gps_in(uploaded.file.name) == {}

    # Stored before the check (in code): rebuilt in the bucket, the old object deleted.
    legacy = Image.objects.create(
        title="Cũ", description="Phố cổ", file=ImageFile(io.BytesIO(gps_photo()), name="cu.jpg")
    )
    old_key = legacy.file.name
    assert gps_in(old_key) != {}
    with django_capture_on_commit_callbacks(execute=True):
        call_command("images_rebuild", stdout=io.StringIO())
    legacy.refresh_from_db()
    assert legacy.file.name in bucket.keys() and old_key not in bucket.keys()
    assert gps_in(legacy.file.name) == {}
