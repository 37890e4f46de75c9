"""Relaying an outside station through Icecast: one upstream connection however many
devices listen, a relay programme plays it, Icecast reconnects by itself after the station
drops, and monitoring raises (then closes) an alert for a station that is gone or silent.
The "station" is a mount of the same Icecast fed by ffmpeg."""

from __future__ import annotations

import subprocess
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from broadcast.live import icecast
from broadcast.live.relays import relay_listen_url, relays_check
from broadcast.models import Alert, Cluster, Relay
from broadcast.programmes.services import programme_create
from media.ffmpeg import ffmpeg_binary
from newsroom.models import Role
from tests.broadcast.helpers import add_device, timeline
from tests.factories import make_tree, make_user
from tests.support import wait_for

from .helpers import Listener

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


def station(server, mount: str, *, silent: bool = False) -> subprocess.Popen:
    """An outside station: a tone (or silence) sent to ``mount`` in real time."""
    src = "anullsrc=r=48000:cl=mono" if silent else "sine=frequency=660:sample_rate=48000"
    return subprocess.Popen(
        [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i", src,
         "-c:a", "libmp3lame", "-b:a", "64k", "-content_type", "audio/mpeg", "-f", "mp3",
         f"icecast://source:nguon-test-source@127.0.0.1:{server.cfg.port}{mount}"],
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def mounts(server) -> dict:
    return (icecast.status(server.url) or {"mounts": {}})["mounts"]


def test_a_relayed_station_costs_one_upstream_connection_reconnects_and_alerts(
    icecast_server, settings, tmp_path
):
    settings.ICECAST_CONFIG_DIR = icecast_server.cfg.folder
    settings.BROADCAST_RELAY_ALERT_SECONDS = 3
    upstream = station(icecast_server, "/vov1-goc.mp3")
    try:
        wait_for(
            lambda: "/vov1-goc.mp3" in mounts(icecast_server),
            what="no station",
            timeout=30,
            interval=0.05,
        )
        # Saving the relay gives Icecast its <relay> (the receiver, after commit).
        relay = Relay.objects.create(
            name="VOV1",
            upstream_url=f"{icecast_server.url}/vov1-goc.mp3",
            mount="/tiep-song-vov1.mp3",
        )
        wait_for(
            lambda: "/tiep-song-vov1.mp3" in mounts(icecast_server),
            what="no relay mount",
            timeout=60,
            interval=0.05,
        )

        # A relay programme points the commune's devices at the relay's mount.
        units = make_tree(three_level=True)
        cluster = Cluster.objects.create(name="Cụm loa thôn Tân Lập", commune=units["A"])
        _device, token = add_device(cluster, "RELAY-0001")
        scheduler = make_user("laplich", unit=units["A"], role=Role.SCHEDULER)
        programme_create(
            user=scheduler,
            name="Tiếp sóng VOV1",
            targets=[{"unit": units["A"]}],
            slots=[
                {
                    "starts_at": timezone.now(),
                    "content": "relay",
                    "relay_url": relay_listen_url(relay),
                    "duration_seconds": 600,
                }
            ],  # fmt: skip
        )
        entry = timeline(token)[0]
        assert entry.parts[0] == {
            "type": "relay",
            "url": f"{icecast_server.url}/tiep-song-vov1.mp3",
            "duration": 600.0,
        }

        # Five devices listen to the relay; the station still sees one listener: Icecast.
        listeners = [Listener(entry.parts[0]["url"], tmp_path / f"l{i}.pcm") for i in range(5)]
        for one in listeners:
            one.start()
        wait_for(
            lambda: all(one.connected_at for one in listeners),
            what="listeners got nothing",
            timeout=20.0,
            interval=0.05,
        )
        found = mounts(icecast_server)
        assert found["/tiep-song-vov1.mp3"]["listeners"] == 5
        assert found["/vov1-goc.mp3"]["listeners"] == 1
        for one in listeners:
            one.stop()

        assert relays_check() == []
        assert not Alert.objects.filter(relay=relay).exists()

        # The station drops: after the alert delay, an alert; it comes back: Icecast
        # reconnects by itself and the alert closes.
        upstream.terminate()
        upstream.wait()
        wait_for(
            lambda: "/tiep-song-vov1.mp3" not in mounts(icecast_server),
            what="relay stayed",
            timeout=30,
            interval=0.05,
        )
        relays_check()
        time.sleep(3.5)
        assert relays_check() == [relay.pk]
        alert = Alert.objects.get(relay=relay, closed_at__isnull=True)
        assert alert.kind == "relay_no_source" and "VOV1" in alert.message
        upstream = station(icecast_server, "/vov1-goc.mp3")
        wait_for(
            lambda: "/tiep-song-vov1.mp3" in mounts(icecast_server),
            what="Icecast did not reconnect the relay",
            timeout=150,
            interval=0.5,
        )
        assert relays_check() == []
        alert.refresh_from_db()
        assert alert.closed_at is not None

        # A station that sends only silence is an alert too.
        upstream.terminate()
        upstream.wait()
        wait_for(
            lambda: "/tiep-song-vov1.mp3" not in mounts(icecast_server),
            what="relay stayed",
            timeout=30,
            interval=0.05,
        )
        upstream = station(icecast_server, "/vov1-goc.mp3", silent=True)
        wait_for(
            lambda: "/tiep-song-vov1.mp3" in mounts(icecast_server),
            what="no relay",
            timeout=150,
            interval=0.5,
        )
        relays_check()
        later = timezone.now() + timedelta(seconds=5)
        assert relays_check(now=later) == [relay.pk]
        assert Alert.objects.get(relay=relay, closed_at__isnull=True).kind == "relay_silent"
    finally:
        upstream.terminate()
        upstream.wait()
