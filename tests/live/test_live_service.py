"""Live broadcasting through the services, a real Icecast and the feeder process: what a
device hears matches what was said, the recording is kept in the newsroom, and the rules
(who may, who is speaking, TT39 priority, bad sources) hold."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from wagtail.models import ModelLogEntry

from broadcast.live import icecast
from broadcast.live.services import live_chunk, live_start, live_stop
from broadcast.models import Cluster, Command, LiveBroadcast
from broadcast.programmes.services import programme_create
from newsroom.models import NewsItem, Role
from tests.broadcast.helpers import add_device, timeline
from tests.factories import make_tree, make_user
from tests.support import wait_for

from .audio import match, pcm, pcm_bytes, speech_wav, to_webm
from .helpers import Listener

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


@pytest.fixture
def commune(tmp_path):
    units = make_tree(three_level=True)
    cluster = Cluster.objects.create(name="Cụm loa thôn Tân Lập", commune=units["A"])
    other = Cluster.objects.create(name="Cụm loa chợ Tân Bình", commune=units["B"])
    device, token = add_device(cluster, "LIVE-0001")
    return {
        "units": units,
        "cluster": cluster,
        "other": other,
        "device": device,
        "token": token,
        "speaker": make_user(
            "canbo_xa",
            unit=units["A"],
            role=Role.SCHEDULER,
            first_name="An",
            last_name="Nguyễn Văn",
        ),  # fmt: skip
        "neighbour": make_user("canbo_huyen", unit=units["X"], role=Role.SCHEDULER),
        "reporter": make_user("phongvien", unit=units["A"], role=Role.REPORTER),
    }


SLICE_SECONDS = 0.25
LEAD_IN = 4.0  # seconds of silence before the speech


def webm_slices(webm: bytes, *, total: float) -> list[bytes]:
    """``webm`` cut in MediaRecorder-like slices of about 250 ms each."""
    pieces = max(1, int(total / SLICE_SECONDS))
    size = len(webm) // pieces + 1
    return [webm[i : i + size] for i in range(0, len(webm), size)]


def send_paced(live, user, pieces: list[bytes]):
    """Send the slices in real time, as the browser does."""
    started = time.monotonic()
    for n, piece in enumerate(pieces, start=1):
        live_chunk(user=user, live=live, data=piece)
        time.sleep(max(0.0, started + n * SLICE_SECONDS - time.monotonic()))


def mount_up(server, mount: str) -> bool:
    found = icecast.status(server.url)
    return bool(found and mount in found["mounts"])


def test_a_device_hears_what_was_said_live_and_the_recording_is_kept(
    icecast_server, commune, tmp_path
):
    wav = speech_wav(tmp_path / "speech.wav")
    webm = to_webm(wav, tmp_path / "speech.webm", lead_in=LEAD_IN).read_bytes()
    source = pcm(wav)
    live = live_start(user=commune["speaker"], targets=[{"cluster": commune["cluster"]}])

    # The device's timeline has the live entry now, pointing at the Icecast mount.
    entries = timeline(commune["token"])
    assert [e.parts[0]["type"] for e in entries] == ["live"]
    assert entries[0].parts[0]["url"] == f"{icecast_server.url}{live.mount}"
    assert entries[0].start <= timezone.now() + timedelta(seconds=1)
    assert Command.objects.filter(device=commune["device"], kind="live_start").exists()

    # The speaker waits a few seconds for the page's "on air" (the mount is up) before
    # speaking; a device joins meanwhile.
    pieces = webm_slices(webm, total=LEAD_IN + len(source) / 48000)
    sender = threading.Thread(target=send_paced, args=(live, commune["speaker"], pieces))
    sender.start()
    wait_for(
        lambda: mount_up(icecast_server, live.mount),
        what="the mount never came up",
        timeout=60,
        interval=0.05,
    )
    listener = Listener(f"{icecast_server.url}{live.mount}", tmp_path / "heard.pcm")
    listener.start()
    sender.join()
    time.sleep(2.0)  # the tail through ffmpeg and Icecast
    live_stop(user=commune["speaker"], live=live)
    listener.stop()

    heard = pcm_bytes((tmp_path / "heard.pcm").read_bytes())
    score, _lag = match(heard, source)
    assert len(heard) > 0.8 * len(source), "the listener missed most of the speech"
    assert score >= 0.8, f"what the device heard does not match the speech ({score:.3f})"

    # Ended everywhere: the entry ends at the stop, and devices are told.
    entries = timeline(commune["token"])
    assert all(e.end <= timezone.now() for e in entries)
    assert Command.objects.filter(device=commune["device"], kind="live_stop").exists()

    # The recording is kept as an audio item of the commune, with who, when, class, targets.
    live = wait_for(
        lambda: LiveBroadcast.objects.filter(pk=live.pk, item__isnull=False).first(),
        what="the recording was not archived in the newsroom",
        timeout=20.0,
        interval=0.05,
    )
    item = NewsItem.objects.get(pk=live.item_id)
    assert item.kind == NewsItem.Kind.AUDIO and item.unit == commune["units"]["A"]
    assert not item.live, "an archived recording is not published by itself"
    assert "Nguyễn Văn An" in item.body and "Cụm loa thôn Tân Lập" in item.body
    archived = pcm(item.audio.file.path)
    score, _lag = match(archived, source)
    assert score >= 0.8, f"the archived recording does not match the speech ({score:.3f})"
    actions = set(
        ModelLogEntry.objects.filter(object_id=str(live.programme_id)).values_list(
            "action", flat=True
        )
    )
    assert {"broadcast.live_start", "broadcast.live_stop"} <= actions
    assert live.end_reason == LiveBroadcast.EndReason.STOPPED


def test_a_second_speaker_to_overlapping_loudspeakers_is_told_who_is_speaking(
    icecast_server, commune
):
    live_start(user=commune["speaker"], targets=[{"cluster": commune["cluster"]}])
    with pytest.raises(ValidationError) as refused:
        live_start(user=commune["neighbour"], targets=[{"unit": commune["units"]["X"]}])
    assert "Nguyễn Văn An" in str(refused.value)
    # Other loudspeakers are free.
    other = live_start(user=commune["neighbour"], targets=[{"cluster": commune["other"]}])
    assert other.status == LiveBroadcast.Status.ON_AIR


def test_only_those_the_policy_allows_may_speak_live(icecast_server, commune):
    with pytest.raises(PermissionDenied):
        live_start(user=commune["reporter"], targets=[{"cluster": commune["cluster"]}])
    with pytest.raises(PermissionDenied):  # a commune scheduler outside their commune
        live_start(user=commune["speaker"], targets=[{"cluster": commune["other"]}])
    assert not LiveBroadcast.objects.exists()


def test_a_browser_that_stops_sending_ends_the_broadcast_on_devices_within_seconds(
    icecast_server, commune, settings, tmp_path
):
    settings.BROADCAST_LIVE_SOURCE_TIMEOUT = 2
    webm = to_webm(speech_wav(tmp_path / "s.wav", "Alô"), tmp_path / "s.webm").read_bytes()
    live = live_start(user=commune["speaker"], targets=[{"cluster": commune["cluster"]}])
    live_chunk(user=commune["speaker"], live=live, data=webm)
    sent = time.monotonic()
    live = wait_for(
        lambda: LiveBroadcast.objects.filter(pk=live.pk, status="ended").first(),
        what="the broadcast did not end after the browser went away",
        timeout=20.0,
        interval=0.05,
    )
    # The source timeout (2 s here, 5 s by default) plus starting `manage.py live_end`
    # (a Django start: about 1.5 s on an idle machine, more on this shared one).
    assert time.monotonic() - sent < 20
    assert live.end_reason == LiveBroadcast.EndReason.SOURCE_LOST
    assert all(e.end <= timezone.now() for e in timeline(commune["token"]))


def test_a_source_that_sends_garbage_is_cut_off(icecast_server, commune):
    live = live_start(user=commune["speaker"], targets=[{"cluster": commune["cluster"]}])
    with pytest.raises(ValidationError):
        live_chunk(user=commune["speaker"], live=live, data=b"GET / HTTP/1.1\r\n" * 100)
    live.refresh_from_db()
    assert live.status == LiveBroadcast.Status.ENDED
    assert live.end_reason == LiveBroadcast.EndReason.SOURCE_INVALID
    assert all(e.end <= timezone.now() for e in timeline(commune["token"]))


def on_air(commune, *, name: str, bulletin_class: str = "normal", seconds: int = 300, user=None):
    """Something playing now on the commune's cluster (a relay slot of ``seconds``)."""
    return programme_create(
        user=user or commune["speaker"],
        name=name,
        bulletin_class=bulletin_class,
        targets=[{"cluster": commune["cluster"]}],
        slots=[
            {
                "starts_at": timezone.now() - timedelta(seconds=5),
                "content": "relay",
                "relay_url": "http://radio.example/vov1",
                "duration_seconds": seconds,
            }
        ],  # fmt: skip
    )


def test_a_normal_live_broadcast_waits_for_the_bulletin_on_air_or_is_refused_with_the_reason(
    icecast_server, commune, settings
):
    on_air(commune, name="Bản tin thời sự")
    settings.BROADCAST_LIVE_MAX_WAIT_SECONDS = 60
    with pytest.raises(ValidationError) as refused:
        live_start(user=commune["speaker"], targets=[{"cluster": commune["cluster"]}])
    assert "Bản tin thời sự" in str(refused.value)
    settings.BROADCAST_LIVE_MAX_WAIT_SECONDS = 600
    live_start(user=commune["speaker"], targets=[{"cluster": commune["cluster"]}])
    bulletin, live = timeline(commune["token"])
    assert live.parts[0]["type"] == "live"
    assert live.start == bulletin.end, "the live broadcast starts when the bulletin ends"
    assert live["delayed"]


def test_an_emergency_live_broadcast_preempts_what_plays_and_a_normal_one_cannot(
    icecast_server, commune, settings
):
    on_air(commune, name="Bản tin thời sự")
    live_start(
        user=commune["speaker"],
        targets=[{"cluster": commune["cluster"]}],
        bulletin_class="emergency",
    )
    first = timeline(commune["token"])[0]
    assert first.parts[0]["type"] == "live" and first.bulletin_class == "emergency"
    assert first.start <= timezone.now()
    assert Command.objects.filter(device=commune["device"], kind="emergency_start").exists()
    # Another speaker's normal broadcast to another cluster during an emergency there.
    on_air(
        commune | {"cluster": commune["other"]},
        name="Khẩn cấp lũ",
        bulletin_class="emergency",
        user=commune["neighbour"],
    )
    with pytest.raises(ValidationError) as refused:
        live_start(user=commune["neighbour"], targets=[{"cluster": commune["other"]}])
    assert "Khẩn cấp lũ" in str(refused.value)
