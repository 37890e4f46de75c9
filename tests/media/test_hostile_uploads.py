"""Uploads never make the server talk to anyone, and a refused intake leaves nothing behind.

Each hostile file (an HLS playlist whose segment, key or variant points at a listener on
127.0.0.1, a session description whose RTP port is on 127.0.0.1) goes through the intake API
and the admin form, under its own name and renamed to ``.mp3``, held in memory and spooled
to a temporary file. A real TCP listener counts every connection it accepts; for ``.sdp``,
``/proc/net/udp`` is watched for the RTP port being opened while the upload is handled.
Each must be refused in Vietnamese within 5 seconds with zero connections.
"""

import json
import socket
import threading
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from wagtail.test.utils.form_data import rich_text

from media.models import MediaAsset
from newsroom.intake import intake_token_issue
from newsroom.models import NewsItem, Role
from tests.factories import make_audio, make_tree, make_user
from tests.support import SilentListener

pytestmark = pytest.mark.django_db

INTAKE = "/api/v1/intake/items"
ADD = "wagtailsnippets_newsroom_newsitem:add"
REFUSED = "The file is not a readable audio or video file, or it is damaged."
LIMIT_SECONDS = 5.0


class UdpWatch:
    """Watches, while active, whether any socket of this machine binds ``port`` (UDP)."""

    def __init__(self, port: int):
        self.port, self.seen = port, False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _bound(self) -> bool:
        needle = f":{self.port:04X}"
        for table in ("/proc/net/udp", "/proc/net/udp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            if any(line.split()[1].endswith(needle) for line in lines):
                return True
        return False

    def _run(self):
        while not self._stop.is_set():
            self.seen = self.seen or self._bound()
            time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@pytest.fixture
def listener():
    server = SilentListener()
    yield server
    server.close()


@pytest.fixture
def free_udp_port():
    """A UDP port on 127.0.0.1 nobody holds (bound once to pick it, then released)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def hostile(case: str, port: int) -> tuple[str, bytes]:
    base = f"http://127.0.0.1:{port}"
    if case == "hls-segment":
        text = (f"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n"
                f"{base}/seg0.ts\n#EXT-X-ENDLIST\n")  # fmt: skip
        return "ban-tin.m3u8", text.encode()
    if case == "hls-key":
        text = (f'#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n'
                f'#EXT-X-KEY:METHOD=AES-128,URI="{base}/key.bin"\n#EXTINF:10.0,\n'
                f"seg0.ts\n#EXT-X-ENDLIST\n")  # fmt: skip
        return "ban-tin.m3u8", text.encode()
    if case == "hls-master":
        text = f'#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS="mp4a.40.2"\n{base}/v.m3u8\n'
        return "ban-tin.m3u8", text.encode()
    assert case == "sdp"
    text = (f"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=ban tin\r\nc=IN IP4 127.0.0.1\r\n"
            f"t=0 0\r\nm=audio {port} RTP/AVP 0\r\n")  # fmt: skip
    return "ban-tin.sdp", text.encode()


CASES = ["hls-segment", "hls-key", "hls-master", "sdp"]


@pytest.fixture
def reporter():
    tree = make_tree(three_level=True)
    user = make_user("rep_hostile", unit=tree["A"], role=Role.REPORTER)
    return user, tree["A"]


def send_intake(user, unit, name: str, data: bytes) -> tuple[int, dict]:
    _token, raw = intake_token_issue(user=user, name="app")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    payload = {"headline": "Bản tin sáng", "unit": unit.code}
    response = client.post(
        INTAKE,
        {"data": json.dumps(payload), "audio": SimpleUploadedFile(name, data, "audio/mpeg")},
    )
    return response.status_code, response.json()


def send_admin_form(user, unit, name: str, data: bytes) -> tuple[int, str]:
    client = Client()
    client.force_login(user)
    response = client.post(
        reverse(ADD),
        {
            "unit": unit.pk,
            "kind": "audio",
            "headline": "Bản tin sáng",
            "body": rich_text("<p>Bản tin</p>"),
            "audio_file": SimpleUploadedFile(name, data, "audio/mpeg"),
        },
    )
    return response.status_code, response.content.decode()


@pytest.mark.parametrize("spooled", [False, True], ids=["in-memory", "temporary-file"])
@pytest.mark.parametrize("rename", [False, True], ids=["own-name", "renamed-mp3"])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("route", ["intake-api", "admin-form"])
def test_a_playlist_or_session_description_upload_connects_nowhere_and_is_refused_in_vietnamese(
    settings, listener, free_udp_port, reporter, route, case, rename, spooled
):
    if spooled:
        settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # Django writes the upload to a temp file
    user, unit = reporter
    port = free_udp_port if case == "sdp" else listener.port
    name, data = hostile(case, port)
    if rename:
        name = "ban-tin.mp3"

    started = time.monotonic()
    with UdpWatch(free_udp_port) as udp:
        if route == "intake-api":
            status, body = send_intake(user, unit, name, data)
        else:
            status, html = send_admin_form(user, unit, name, data)
    elapsed = time.monotonic() - started
    time.sleep(0.2)  # a connection made at the very end is accepted by now

    assert listener.accepted == [], f"the server connected {len(listener.accepted)} time(s)"
    assert not udp.seen, f"the server opened UDP port {free_udp_port}"
    assert elapsed < LIMIT_SECONDS, f"refused after {elapsed:.1f}s"
    with translation.override("vi"):
        message = translation.gettext(REFUSED)
    assert message != REFUSED  # the Vietnamese sentence, not the msgid
    if route == "intake-api":
        assert status == 422 and body == {"error": message, "field": "audio"}
    else:
        assert status == 200 and message in html
    assert not MediaAsset.objects.exists() and not NewsItem.objects.exists()


def stored_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def test_an_intake_refused_after_its_mp3_was_read_leaves_no_byte_under_media_root(
    tmp_path, media_root, reporter
):
    """The MP3 is valid and is stored; the headline then fails the item's own validation (it
    is made only of control characters, which the item drops: nothing would be left)."""
    user, unit = reporter
    mp3 = make_audio(tmp_path / "ban-tin", seconds=2.0, fmt="mp3")
    _token, raw = intake_token_issue(user=user, name="app")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    payload = {"headline": "\x07\x08\x07", "unit": unit.code}

    response = client.post(
        INTAKE,
        {"data": json.dumps(payload), "audio": SimpleUploadedFile("a.mp3", mp3.read_bytes())},
    )

    assert response.status_code == 422, response.content
    assert response.json()["field"] == "headline"
    assert not MediaAsset.objects.exists() and not NewsItem.objects.exists()
    assert stored_bytes(media_root) == 0

    # The same MP3 with a good headline is kept: the clean-up takes only what was refused.
    payload["headline"] = "Bản tin sáng"
    response = client.post(
        INTAKE,
        {"data": json.dumps(payload), "audio": SimpleUploadedFile("a.mp3", mp3.read_bytes())},
    )
    assert response.status_code == 201, response.content
    asset = MediaAsset.objects.get()
    assert stored_bytes(media_root) == asset.size == mp3.stat().st_size


@pytest.mark.django_db(transaction=True)
def test_a_request_whose_transaction_rolls_back_after_the_upload_leaves_no_file(
    tmp_path, media_root
):
    """Outside any block that knows about it (a view failing after the form saved): the
    file goes when the request ends, because its row was never committed."""
    from django.core.signals import request_finished
    from django.db import transaction

    from media.services import asset_create
    from tests.factories import make_upload

    wav = make_audio(tmp_path / "x", seconds=1.0)
    with pytest.raises(RuntimeError), transaction.atomic():
        asset_create(upload=make_upload(wav), kind="audio")
        assert stored_bytes(media_root) > 0
        raise RuntimeError("the view failed after saving")
    request_finished.send(sender=None)
    assert stored_bytes(media_root) == 0

    with transaction.atomic():
        kept = asset_create(upload=make_upload(wav), kind="audio")
    request_finished.send(sender=None)
    assert (media_root / kept.file.name).stat().st_size == kept.size  # committed: kept


def test_every_ffmpeg_input_reads_local_files_only_with_the_probed_demuxer(
    tmp_path, media_root, django_capture_on_commit_callbacks
):
    """All the commands processing an upload runs (measure, transcode, verify), recorded as
    run: each input is preceded by ``-protocol_whitelist file`` and, for the upload itself,
    by ``-f`` and the container it was probed as."""
    from media import ffmpeg
    from media.services import asset_create
    from tests.factories import make_upload

    source = make_audio(tmp_path / "ban-tin", seconds=2.0, fmt="m4a")
    ffmpeg.command_log = []
    try:
        with django_capture_on_commit_callbacks(execute=True):
            asset = asset_create(upload=make_upload(source), kind="audio")
        commands = [argv for _thread, argv in ffmpeg.command_log]
    finally:
        ffmpeg.command_log = None
    asset.refresh_from_db()
    assert asset.status == MediaAsset.Status.READY and len(commands) >= 3

    upload_reads = 0
    for argv in commands:
        for i, arg in enumerate(argv):
            if arg != "-i":
                continue
            options = argv[max(0, i - 4) : i]
            assert options[options.index("-protocol_whitelist") + 1] == "file", argv
            if argv[i + 1] == asset.file.path:
                upload_reads += 1
                assert options[options.index("-f") + 1] == asset.probe["container"], argv
    assert upload_reads == 2  # one measuring decode, one transcoding decode
    assert asset.probe["container"] == "mov,mp4,m4a,3gp,3g2,mj2"
