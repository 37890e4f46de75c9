"""A loudspeaker in a commune with bad power and bad links: the server goes away and
comes back, the player is killed mid-download and mid-playback — it keeps playing what
it has, its cache never holds a broken file, and every play reaches the server once."""

import hashlib
import random
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.support import wait_for

from .helpers import server_api


def slots(commune, *, name: str, starts: list, item: str):
    return server_api("programme_create")(
        user=commune["scheduler"],
        name=name,
        targets=[{"cluster": commune["cluster"]}],
        slots=[{"starts_at": at, "items": [commune["items"][item].pk]} for at in starts],
    )


OUTAGE_SECONDS = 180  # "several minutes" without the server


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_with_the_server_down_every_entry_plays_from_cache_and_is_logged_once(
    commune, server, players
):
    from broadcast.models import PlayLog

    now = timezone.now().replace(microsecond=0)
    # The server stays down for three minutes; the entries fall early, midway and late.
    starts = [now + timedelta(seconds=s) for s in (14, 90, 170)]
    slots(commune, name="Bản tin trong lúc mất mạng", starts=starts, item="short")
    player = players(server, commune["device"].pk, commune["token"], poll_seconds=2,
                     heartbeat_seconds=2)  # fmt: skip
    player.start()
    player.wait_log(r"cached [0-9a-f]{12}", timeout=10)
    server.stop()
    stopped = time.monotonic()
    player.wait_log(r"server unreachable .*playing the cached timeline, 3 entries", timeout=10)
    wait_for(
        lambda: len([m for m in player.marks() if m.event == "end"]) == 3,
        timeout=200,
        what="three entries played while the server was down",
    )
    assert PlayLog.objects.filter(device=commune["device"]).count() == 0
    assert "uploaded" not in player.text()
    begins = [m for m in player.marks() if m.event == "start"]
    assert all(0 <= m.at - at.timestamp() < 1.0 for m, at in zip(begins, starts, strict=True))
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
    server.start()
    player.wait_log(r"uploaded 3 play log\(s\): 3 accepted, 0 duplicates", timeout=20)
    time.sleep(3)  # more polls and heartbeats: nothing is sent again
    logs = PlayLog.objects.filter(device=commune["device"]).order_by("started_at")
    assert [(log.status, log.programme.name) for log in logs] == [
        ("completed", "Bản tin trong lúc mất mạng")
    ] * 3
    assert len({log.entry_id for log in logs}) == 3
    for log, at in zip(logs, starts, strict=True):
        assert abs((log.started_at - at).total_seconds()) < 1.0
    assert player.text().count("uploaded") == 1


def cache_problems(cache) -> list[str]:
    """Problems with the cache folder: a media file whose content is not its name's
    SHA-256, or a partial download that is not a prefix of the real file."""
    problems = []
    for path in (cache / "media").iterdir():
        if path.name.startswith("."):
            continue
        if hashlib.sha256(path.read_bytes()).hexdigest() != path.name:
            problems.append(f"corrupt media/{path.name}")
    return problems


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_twenty_sigkills_during_downloads_leave_no_corrupt_cache_file(
    commune, server, players, tmp_path
):
    from tests.factories import make_audio_asset, make_published_item

    asset = make_audio_asset(tmp_path / "assets" / "long-read", seconds=300, name="doc-bao")
    item = make_published_item(commune["units"]["A"], "Đọc báo tuần", audio=asset)
    rendition = item.audio.rendition("loudspeaker")
    real = rendition.file.open("rb").read()
    commune["items"]["week"] = item
    slots(commune, name="Đọc báo", starts=[timezone.now() + timedelta(hours=5)], item="week")
    slots(commune, name="Bản tin", starts=[timezone.now() + timedelta(hours=6)], item="short")
    player = players(server, commune["device"].pk, commune["token"], download_kbps=100)
    cache = player.folder / "cache"
    rng = random.Random(18)  # noqa: S311 - reproducible kill times, not security
    partial_sizes = []
    for _kill in range(20):
        player.start()
        player.wait_log(r"downloading [0-9a-f]{12} from byte", timeout=20)
        time.sleep(rng.uniform(0.0, 1.2))
        player.kill()
        assert not cache_problems(cache), cache_problems(cache)
        partial = cache / "partial" / rendition.sha256
        if partial.exists():
            data = partial.read_bytes()
            assert real.startswith(data), "a partial download is not a prefix of the file"
            partial_sizes.append(len(data))
        player.log.write_text("")  # the next run's "downloading" line is its own
    assert len(partial_sizes) >= 15 and partial_sizes == sorted(partial_sizes)  # resumed
    assert partial_sizes[-1] < len(real)  # the kills did land mid-download
    # Left alone, it finishes: both files complete and verified, nothing partial left.
    player.start()
    wait_for(
        lambda: len(list((cache / "media").iterdir())) == 2,
        timeout=60,
        what="both files completed",
    )
    assert (cache / "media" / rendition.sha256).read_bytes() == real
    assert not cache_problems(cache)
    assert not list((cache / "partial").iterdir())
