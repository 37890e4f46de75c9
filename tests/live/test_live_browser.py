"""Live from the browser, end to end: Chromium with a fake microphone fed from a
Vietnamese speech WAV drives the live page (*Phát trực tiếp*); the reference player, a real
``nguon-player`` process on the ``file:`` output, plays the live entry of its timeline from
Icecast; what it played matches the speech, and so does the recording kept in the newsroom.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings

from broadcast.models import Cluster, Device, LiveBroadcast
from broadcast.services import device_token_issue
from media.ffmpeg import ffmpeg_binary
from newsroom.models import NewsItem, Role
from tests.factories import make_tree, make_user
from tests.ops.conftest import chromium_path  # noqa: F401
from tests.ops.helpers import CHROMIUM_ARGS
from tests.support import wait_for

from .audio import match, pcm, pcm_bytes, speech_wav

PASSWORD = "mat-khau-thu-nghiem-2026"
LEAD_IN = 5.0


def fake_microphone(tmp_path):
    """The speech after a few seconds of silence (the speaker waits for "on air"), then
    silence again; 48 kHz mono 16-bit WAV, as Chromium's fake capture reads it."""
    speech = speech_wav(tmp_path / "speech.wav")
    mic = tmp_path / "mic.wav"
    subprocess.run([ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(speech),
                    "-af", f"adelay={int(LEAD_IN * 1000)}:all=1,apad=pad_dur=30", "-ac", "1",
                    "-ar", "48000", "-c:a", "pcm_s16le", str(mic)], check=True)  # fmt: skip
    return speech, mic


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.django_db(transaction=True)
def test_speaking_from_the_live_page_plays_on_the_loudspeaker_and_is_archived(
    chromium_path,  # noqa: F811
    icecast_env,
    server,
    players,
    tmp_path,
    monkeypatch,
):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    units = make_tree(three_level=True)
    cluster = Cluster.objects.create(name="Cụm loa thôn Tân Lập", commune=units["A"])
    device = Device.objects.create(cluster=cluster, serial="LIVE-BROWSER-1", vendor="Nguồn")
    token = device_token_issue(device=device)
    speaker = make_user("canbo_xa", unit=units["A"], role=Role.SCHEDULER, is_staff=True)
    speaker.set_password(PASSWORD)
    speaker.save()
    speech, mic = fake_microphone(tmp_path)
    source = pcm(speech)
    player = players(server, device.pk, token, poll_seconds=2)
    player.start()
    player.wait_log(r"timeline", timeout=60)

    args = [*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={mic}"]  # fmt: skip
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=args)
        try:
            page = browser.new_page(locale="vi-VN")
            page.goto(f"{server.url}/admin/login/")
            page.fill("#id_username", "canbo_xa")
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server.url}/admin/")
            page.goto(f"{server.url}/admin/phat-thanh/truc-tiep/")
            assert page.locator("h1").inner_text().strip() == "Phát trực tiếp"
            page.select_option("#id_target_clusters", str(cluster.pk))
            page.select_option("#id_bulletin_class", "normal")
            page.click("#live-start")
            try:
                page.wait_for_selector("#live-state[data-state=tOnAir]", timeout=60_000)
            except Exception:  # say what the page and the server said
                feeders = list(Path(settings.VAR_DIR, "live").glob("*/feeder.log"))
                pytest.fail(
                    f"never on air; the page says {page.inner_text('main')[:1500]!r}; "
                    f"broadcasts {list(LiveBroadcast.objects.values('status', 'source_bytes'))}"
                    f"; gunicorn: {server.log.read_text()[-1500:]}; feeders: "
                    + " | ".join(f.read_text()[-500:] for f in feeders[-2:])
                )
            assert "Đang phát" in page.inner_text("#live-state")
            live = LiveBroadcast.objects.get()
            # The loudspeaker joins the live entry (poll or push) and plays it.
            log = player.out.with_name("out.pcm.log")
            wait_for(
                lambda: "live" in (log.read_text() if log.exists() else ""),
                what="the player never played the live entry",
                timeout=60,
                interval=0.05,
            )
            time.sleep(LEAD_IN + len(source) / 48000 + 3)
            page.click("#live-stop")
            page.wait_for_selector("#live-state[data-state=tEnded]", timeout=30_000)
        finally:
            browser.close()

    live = wait_for(
        lambda: LiveBroadcast.objects.filter(pk=live.pk, item__isnull=False).first(),
        what="the recording was not archived",
        timeout=90,
        interval=0.05,
    )
    assert live.end_reason == LiveBroadcast.EndReason.STOPPED
    wait_for(
        lambda: any(m.event in ("end", "stop") for m in player.marks()),
        what="the player did not end the live entry",
        timeout=30,
        interval=0.05,
    )
    played = pcm_bytes(player.out.read_bytes())
    score, _lag = match(played, source)
    assert score >= 0.8, f"the loudspeaker's output does not match the speech ({score:.3f})"
    item = NewsItem.objects.get(pk=live.item_id)
    score, _lag = match(pcm(item.audio.file.path), source)
    assert score >= 0.8, f"the archived recording does not match the speech ({score:.3f})"
