"""The live page when live broadcasting is off, and the listener limit of Icecast."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request

import pytest
from django.urls import reverse

from broadcast.live import icecast
from media.ffmpeg import ffmpeg_binary
from newsroom.models import Role
from tests.factories import make_tree, make_user
from tests.support import wait_for


@pytest.mark.django_db
def test_without_icecast_the_live_page_says_live_broadcasting_is_off_and_how_to_turn_it_on(
    client, settings
):
    settings.ICECAST_URL = ""
    units = make_tree(three_level=True)
    client.force_login(make_user("canbo_xa", unit=units["A"], role=Role.SCHEDULER, is_staff=True))
    page = client.get(reverse("broadcast_live")).content.decode()
    assert "Phát trực tiếp đang tắt" in page
    # How to turn it on: install icecast2 (or, when installed, start with make run) or set
    # ICECAST_URL.
    assert "ICECAST_URL" in page and ("icecast2" in page or "make run" in page)
    assert 'id="live-form"' not in page
    refused = client.post(reverse("broadcast_live_start"), {"target_units": [units["A"].pk]})
    assert refused.status_code == 409
    assert "Phát trực tiếp đang tắt" in refused.json()["error"]


@pytest.mark.django_db
def test_a_reporter_does_not_get_the_live_page(client):
    units = make_tree(three_level=True)
    client.force_login(make_user("phongvien", unit=units["A"], role=Role.REPORTER, is_staff=True))
    assert client.get(reverse("broadcast_live")).status_code in (302, 403)


def test_icecast_refuses_listeners_beyond_its_limit(tmp_path):
    from tests.support import require

    require("icecast", icecast.binary() is not None, "icecast2 is not installed")
    server = icecast.IcecastProcess(
        icecast.IcecastConfig(
            port=icecast.free_port(),
            folder=tmp_path / "ice",
            source_password="s-limit",
            admin_password="a-limit",
            max_listeners=2,
        )  # fmt: skip
    )
    server.start()
    source = subprocess.Popen(
        [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
         "sine=f=440", "-c:a", "libmp3lame", "-b:a", "64k", "-content_type", "audio/mpeg",
         "-f", "mp3", f"icecast://source:s-limit@127.0.0.1:{server.cfg.port}/gioi-han.mp3"],
    )  # fmt: skip
    try:
        mounts = lambda: (icecast.status(server.url) or {"mounts": {}})["mounts"]  # noqa: E731
        wait_for(lambda: "/gioi-han.mp3" in mounts(), what="no mount", timeout=30, interval=0.05)
        first = urllib.request.urlopen(f"{server.url}/gioi-han.mp3", timeout=5)  # noqa: S310
        second = urllib.request.urlopen(f"{server.url}/gioi-han.mp3", timeout=5)  # noqa: S310
        assert first.read(100) and second.read(100)
        with pytest.raises(urllib.error.HTTPError) as third:
            urllib.request.urlopen(f"{server.url}/gioi-han.mp3", timeout=5)  # noqa: S310
        assert third.value.code in (400, 403, 503)
        first.close()
        second.close()
    finally:
        source.kill()
        server.stop()
