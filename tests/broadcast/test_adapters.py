"""The vendor-adapter interface: the example line-protocol adapter translates both ways,
and a bridge built on it drives a (fake) controller through the real device API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from broadcast.adapters import ADAPTERS, Bridge, LineProtocolAdapter, VendorAdapter
from broadcast.models import Device, PlayLog
from broadcast.services import command_issue, programme_create


def test_the_example_adapter_follows_the_protocol():
    adapter = ADAPTERS["lineproto"](device_serial="LOA-9")
    assert isinstance(adapter, VendorAdapter)
    beat = adapter.heartbeat_from_vendor(
        "ST=PLAYING;VOL=120;RSSI=-71;FW=2.4.1;IP=10.0.0.7;NOW=Bản tin"
    )
    assert beat == {
        "status": "playing",
        "volume": 100,
        "signal": -71,
        "firmware": "2.4.1",
        "ip": "10.0.0.7",
        "now_playing": "Bản tin",
    }
    events = adapter.playlogs_from_vendor("LOG 7 1767222000 120 OK 3-1767222000\nGARBAGE\n")
    assert events[0]["id"] == "LOA-9-7-1767222000" and events[0]["status"] == "completed"
    assert events[0]["entry_id"] == "3-1767222000" and events[0]["duration"] == 120
    assert adapter.command_to_vendor({"kind": "set_volume", "payload": {"volume": 40}}) == "VOL 40"
    with pytest.raises(ValueError):
        adapter.command_to_vendor({"kind": "self_destruct"})


@pytest.mark.django_db(transaction=True)
def test_a_bridge_drives_a_controller_through_the_api(world, live_server):
    device, token = world["devices"]["A1"]
    programme_create(
        user=world["admin"],
        name="Sáng",
        bulletin_class="priority",
        targets=[{"cluster": world["clusters"]["A1"]}],
        slots=[
            {"starts_at": timezone.now() + timedelta(hours=1), "items": [world["items"]["bt1"].pk]}
        ],
    )
    sent = []
    bridge = Bridge(
        base_url=live_server.url,
        device_id=device.pk,
        token=token,
        adapter=LineProtocolAdapter(device_serial=device.serial),
        send=sent.append,
    )
    assert bridge.sync_timeline() is True
    assert sent[0].startswith("CLR\nPLAY ") and " P\n" in sent[0]
    assert bridge.sync_timeline() is False  # 304: nothing re-uploaded
    bridge.forward_status("ST=IDLE;VOL=55;RSSI=-80;FW=9.9")
    assert Device.objects.get(pk=device.pk).volume == 55
    raw = "LOG 1 1767222000 60 OK\nLOG 2 1767222100 30 ERR\n"
    assert bridge.forward_playlogs(raw)["accepted"] == 2
    assert bridge.forward_playlogs(raw)["accepted"] == 0  # replay
    assert PlayLog.objects.filter(device=device, status="failed").count() == 1
    command_issue(user=world["admin"], devices=[device], kind="power_off")
    assert bridge.relay_commands() == 1 and sent[-1] == "PWR OFF"
    assert bridge.relay_commands() == 0
