"""The admin: each asset shows a progress bar with its stage; a failed asset shows the
ffmpeg message and a retry button that queues it again; abandoned jobs are recovered."""

import os
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from media.ffmpeg import FFmpegError
from media.models import MediaAsset, Rendition
from media.processing import asset_process
from media.services import asset_create, assets_recover
from tests.factories import make_audio, make_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client, django_user_model):
    user = django_user_model.objects.create_superuser("quantri", "qt@example.org", "x")
    client.force_login(user)
    return client


def stored(tmp_path, name="ban-tin"):
    return asset_create(upload=make_upload(make_audio(tmp_path / name, seconds=2)), kind="audio")


def test_the_list_shows_a_progress_bar_beside_each_asset(tmp_path, admin_client_):
    asset = stored(tmp_path)
    MediaAsset.objects.filter(pk=asset.pk).update(
        status=MediaAsset.Status.PROCESSING, stage=MediaAsset.Stage.TRANSCODING, progress=42.4
    )

    page = admin_client_.get("/admin/media/assets/")

    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-asset-id="{asset.pk}"' in html
    assert '<progress max="100" value="42"' in html
    assert "42%" in html and "ban-tin.wav" in html
    status = admin_client_.get(f"/admin/media/assets/status/?ids={asset.pk}").json()
    assert status["assets"][str(asset.pk)]["progress"] == 42.4
    assert status["assets"][str(asset.pk)]["stage"] == "transcoding"


def test_a_failed_asset_shows_ffmpegs_message_and_can_be_retried(
    tmp_path, admin_client_, django_capture_on_commit_callbacks
):
    asset = stored(tmp_path)
    good = Path(asset.file.path).read_bytes()
    Path(asset.file.path).write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + b"\x13\x37" * 4000)
    with pytest.raises(FFmpegError):
        asset_process(asset_id=asset.pk)

    html = admin_client_.get("/admin/media/assets/?status=failed").content.decode()
    assert "Invalid data" in html and f"/admin/media/assets/{asset.pk}/retry/" in html

    Path(asset.file.path).write_bytes(good)  # the editor fixed the storage
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(f"/admin/media/assets/{asset.pk}/retry/")

    assert response.status_code == 302
    asset.refresh_from_db()  # eager Celery: processed on commit of the retry
    assert asset.status == MediaAsset.Status.READY and asset.error == ""
    assert asset.attempts == 2 and asset.progress == 100
    assert asset.rendition("loudspeaker") is not None


def test_retry_needs_the_change_permission(tmp_path, client, django_user_model):
    asset = stored(tmp_path)
    MediaAsset.objects.filter(pk=asset.pk).update(status=MediaAsset.Status.FAILED)
    user = django_user_model.objects.create_user("phongvien", password="x")
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(user)
    response = client.post(f"/admin/media/assets/{asset.pk}/retry/")
    # Wagtail turns PermissionDenied into a redirect to the dashboard with a message.
    assert response.status_code == 403 or response.url == "/admin/"
    assert MediaAsset.objects.get(pk=asset.pk).status == MediaAsset.Status.FAILED


def test_a_live_claim_is_respected_and_a_dead_one_recovered(
    tmp_path, settings, django_capture_on_commit_callbacks
):
    asset = stored(tmp_path)
    alive = f"{socket.gethostname()}:{os.getppid()}"  # another live process holds it
    MediaAsset.objects.filter(pk=asset.pk).update(
        status=MediaAsset.Status.PROCESSING, worker=alive, heartbeat_at=timezone.now()
    )

    asset_process(asset_id=asset.pk)  # a duplicate delivery: must not start a second job
    assert assets_recover() == []

    held = MediaAsset.objects.get(pk=asset.pk)
    assert held.status == MediaAsset.Status.PROCESSING and held.attempts == 0
    assert not Rendition.objects.filter(asset=asset, status=Rendition.Status.READY).exists()

    # The holder stops beating (a machine lost): after the lease, another worker takes over.
    MediaAsset.objects.filter(pk=asset.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.NGUON_MEDIA_LEASE_SECONDS + 1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert assets_recover() == [asset.pk]  # queued again (eager: processed on commit)

    done = MediaAsset.objects.get(pk=asset.pk)
    assert done.status == MediaAsset.Status.READY and done.attempts == 1
    assert set(done.renditions_ready()) == {"loudspeaker", "broadcast_audio", "web_audio",
                                            "waveform"}  # fmt: skip


def test_a_dead_worker_on_this_machine_is_recovered_at_once(
    tmp_path, django_capture_on_commit_callbacks
):
    asset = stored(tmp_path)
    MediaAsset.objects.filter(pk=asset.pk).update(
        status=MediaAsset.Status.PROCESSING,
        worker=f"{socket.gethostname()}:4194303",  # no such process
        heartbeat_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert assets_recover() == [asset.pk]
    assert MediaAsset.objects.get(pk=asset.pk).status == MediaAsset.Status.READY
