"""Schedules: programmes with one-off and RRULE slots, targets covering subtrees, the three
TT39 classes, conflicts shown before saving, refusals, and withdrawn items vanishing."""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from wagtail.models import ModelLogEntry

from broadcast.models import BulletinClass, Programme, Slot
from broadcast.selectors import schedule_conflicts
from broadcast.services import emergency_start, programme_create, programme_stop
from broadcast.timeline import LOCAL_TZ, occurrences
from newsroom.events import item_withdrawn

from .helpers import soon, timeline

pytestmark = pytest.mark.django_db


def playlist(items, *, at, rrule="", valid_until=None):
    return {
        "starts_at": at,
        "rrule": rrule,
        "valid_until": valid_until,
        "content": Slot.Content.PLAYLIST,
        "items": [i.pk for i in items],
    }


def entries_of(world, name):
    _device, token = world["devices"][name]
    return timeline(token)


def test_rrule_every_weekday_at_six_and_five_local_time():
    start = datetime(2026, 11, 23, 6, 0, tzinfo=LOCAL_TZ)  # a Monday
    found = occurrences(
        starts_at=start,
        rrule="RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=6,17;BYMINUTE=0;BYSECOND=0",
        valid_until=datetime(2026, 11, 30, 0, 0, tzinfo=LOCAL_TZ),
        start=start,
        end=start + timedelta(days=14),
    )
    assert len(found) == 10  # Mon–Fri, twice a day, one week of validity
    assert {(o.hour, o.minute) for o in found} == {(6, 0), (17, 0)}
    assert all(o.weekday() < 5 for o in found)
    assert found[0].utcoffset() == timedelta(hours=7)


def test_a_scheduler_plans_a_daily_playlist_that_reaches_the_whole_commune(world):
    units, items = world["units"], world["items"]
    now = timezone.now()
    programme = programme_create(
        user=world["scheduler"],
        name="Bản tin sáng",
        targets=[{"unit": units["A"]}],
        slots=[playlist([items["bt1"]], at=now + timedelta(hours=1), rrule="FREQ=DAILY")],
    )
    assert programme.unit == units["A"]
    for name in ["A1", "A2"]:
        entries = entries_of(world, name)
        assert len(entries) == 2  # tomorrow's too: the 48-hour window
        assert entries[0].parts[0]["headline"] == "Thông báo tiêm chủng"
    assert entries_of(world, "B1") == [] and entries_of(world, "C1") == []
    # The board gets no audio.
    assert entries_of(world, "board") == []


def test_targets_cover_cluster_zone_and_unit_subtrees(world):
    units, items, clusters = world["units"], world["items"], world["clusters"]
    admin = world["admin"]
    at = soon(30)
    programme_create(
        user=admin,
        name="Cụm",
        targets=[{"cluster": clusters["A1"]}],
        slots=[playlist([items["bt1"]], at=at)],
    )
    programme_create(
        user=admin,
        name="Vùng chợ",
        targets=[{"zone": world["zone"]}],
        slots=[playlist([items["bt1"]], at=at + timedelta(hours=1))],
    )
    programme_create(
        user=admin,
        name="Huyện",
        targets=[{"unit": units["X"]}],
        slots=[playlist([items["bt2"]], at=at + timedelta(hours=2))],
    )
    names = {n: [e.programme_name for e in entries_of(world, n)] for n in ["A1", "A2", "B1", "C1"]}
    assert names == {
        "A1": ["Cụm", "Huyện"],
        "A2": ["Vùng chợ", "Huyện"],
        "B1": ["Huyện"],
        "C1": [],  # another district
    }


def test_refusals_name_the_field(world):
    items, units, scheduler = world["items"], world["units"], world["scheduler"]
    targets = [{"unit": units["A"]}]

    def refused(slot, field):
        with pytest.raises(ValidationError) as exc:
            programme_create(user=scheduler, name="x", targets=targets, slots=[slot])
        assert field in exc.value.message_dict, exc.value.message_dict

    now = timezone.now()
    refused(playlist([items["bt1"]], at=now - timedelta(hours=1)), "slots.0.starts_at")
    refused(
        playlist(
            [items["bt1"]], at=now + timedelta(hours=1), rrule="FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"
        ),
        "slots.0.rrule",
    )
    refused(
        playlist(
            [items["bt1"]],
            at=now - timedelta(days=10),
            rrule="FREQ=DAILY",
            valid_until=now - timedelta(days=1),
        ),
        "slots.0.valid_until",
    )
    refused(
        playlist([items["bt1"]], at=now + timedelta(hours=1), rrule="FREQ=SECONDLY"),
        "slots.0.rrule",
    )
    refused(
        playlist([items["bt1"]], at=now + timedelta(hours=1), rrule="not a rule"), "slots.0.rrule"
    )
    refused(playlist([items["draft"]], at=now + timedelta(hours=1)), "slots.0.items")
    refused(playlist([items["article"]], at=now + timedelta(hours=1)), "slots.0.items")
    withdrawn = items["bt1"]
    withdrawn.withdrawn_at = now
    withdrawn.save()
    refused(playlist([withdrawn], at=now + timedelta(hours=1)), "slots.0.items")
    refused(
        {"starts_at": now + timedelta(hours=1), "content": "relay", "relay_url": "http://s/x"},
        "slots.0.duration_seconds",
    )
    assert not Programme.objects.exists()


def test_a_recurring_slot_that_started_in_the_past_is_fine(world):
    now = timezone.now()
    programme_create(
        user=world["scheduler"],
        name="Hằng ngày",
        targets=[{"unit": world["units"]["A"]}],
        slots=[
            playlist(
                [world["items"]["bt1"]], at=now - timedelta(days=3, hours=-1), rrule="FREQ=DAILY"
            )
        ],
    )
    assert len(entries_of(world, "A1")) == 2


def test_schedulers_act_only_in_their_subtree(world):
    units, items = world["units"], world["items"]
    with pytest.raises(PermissionDenied):
        programme_create(
            user=world["scheduler"],  # commune A
            name="Sang xã B",
            targets=[{"unit": units["B"]}],
            slots=[playlist([items["bt1"]], at=soon())],
        )
    # A district scheduler covers both its communes.
    programme_create(
        user=world["district_scheduler"],
        name="Của huyện",
        targets=[{"cluster": world["clusters"]["B1"]}],
        slots=[playlist([items["bt1"]], at=soon())],
    )


def test_priority_is_inserted_ahead_of_normal_content_at_the_next_slot(world):
    units, items, admin = world["units"], world["items"], world["admin"]
    at = soon(60)
    programme_create(
        user=admin,
        name="Thường",
        targets=[{"unit": units["A"]}],
        slots=[playlist([items["bt1"]], at=at)],
    )
    programme_create(
        user=admin,
        name="Ưu tiên",
        bulletin_class=BulletinClass.PRIORITY,
        targets=[{"unit": units["P"]}],
        slots=[playlist([items["bt2"]], at=at - timedelta(minutes=20))],
    )
    entries = entries_of(world, "A1")
    assert len(entries) == 1
    entry = entries[0]
    assert entry.programme_name == "Thường" and entry.start == at
    assert [p["headline"] for p in entry.parts] == ["Bản tin tỉnh", "Thông báo tiêm chủng"]
    assert entry.parts[0]["bulletin_class"] == "priority"
    assert abs(entry.duration - 3.0) < 0.5
    # Where there is no normal slot it plays on its own at its time.
    lone = entries_of(world, "B1")
    assert [e.programme_name for e in lone] == ["Ưu tiên"]


def test_overlapping_normal_slots_queue_and_nothing_is_lost(world):
    units, items, admin = world["units"], world["items"], world["admin"]
    at = soon(60)
    programme_create(
        user=admin,
        name="Tỉnh",
        targets=[{"unit": units["P"]}],
        slots=[playlist([items["bt1"]], at=at)],
    )
    programme_create(
        user=admin,
        name="Cụm",
        targets=[{"cluster": world["clusters"]["A1"]}],
        slots=[playlist([items["bt2"]], at=at)],
    )
    entries = entries_of(world, "A1")
    # Same time: the narrower target (the cluster's own programme) goes first.
    assert [e.programme_name for e in entries] == ["Cụm", "Tỉnh"]
    assert entries[1].start == entries[0].end
    assert "delayed" in entries[1].notes


def test_conflicts_are_shown_before_saving_with_their_rule(world):
    units, items, admin = world["units"], world["items"], world["admin"]
    at = soon(60)
    programme_create(
        user=admin,
        name="Có sẵn",
        targets=[{"unit": units["A"]}],
        slots=[playlist([items["bt1"]], at=at)],
    )
    draft = [{"starts_at": at + timedelta(seconds=1), "duration": 60}]
    same = schedule_conflicts(
        bulletin_class="normal", targets=[{"cluster": world["clusters"]["A2"]}], slots=draft
    )
    assert len(same) == 1
    assert same[0]["programme"].name == "Có sẵn" and same[0]["rule"] == "queued_in_start_order"
    assert same[0]["clusters"] == 1
    prio = schedule_conflicts(
        bulletin_class="priority", targets=[{"unit": units["X"]}], slots=draft
    )
    assert prio[0]["rule"] == "priority_ahead" and prio[0]["clusters"] == 2
    emerg = schedule_conflicts(
        bulletin_class="emergency", targets=[{"unit": units["P"]}], slots=draft
    )
    assert emerg[0]["rule"] == "emergency_preempts"
    # Elsewhere nothing conflicts.
    assert (
        schedule_conflicts(bulletin_class="normal", targets=[{"unit": units["C"]}], slots=draft)
        == []
    )


def test_emergency_preempts_now_needs_permission_is_logged_and_stoppable(world):
    units, items, admin = world["units"], world["items"], world["admin"]
    now = timezone.now()
    programme_create(
        user=admin,
        name="Thường đang phát",
        targets=[{"unit": units["A"]}],
        slots=[playlist([items["bt1"]], at=now + timedelta(seconds=30))],
    )
    # A commune scheduler cannot raise the alarm for the whole district.
    with pytest.raises(PermissionDenied):
        emergency_start(
            user=world["scheduler"], name="Lũ", targets=[{"unit": units["X"]}], tts_text="Lũ về"
        )
    emergency = emergency_start(
        user=admin,
        name="Cảnh báo lũ",
        targets=[{"unit": units["X"]}],
        tts_text="Nước sông dâng cao, bà con di chuyển lên vùng cao." * 3,
    )
    entries = entries_of(world, "A1")
    assert entries[0].bulletin_class == "emergency" and entries[0].programme_name == "Cảnh báo lũ"
    assert entries[0].start <= timezone.now()
    # The normal slot waits until the emergency ends: moved, not lost.
    assert entries[1].programme_name == "Thường đang phát"
    assert entries[1].start >= entries[0].end
    assert entries_of(world, "C1") == []  # another district
    # Every targeted device got an emergency-start command (for polling and MQTT).
    starts = emergency.commands.filter(kind="emergency_start")
    assert starts.count() == 4  # A1 loudspeaker + board, A2, B1
    assert ModelLogEntry.objects.filter(action="broadcast.emergency_start").count() == 1

    programme_stop(user=admin, programme=emergency)
    assert [e.programme_name for e in entries_of(world, "A1")] == ["Thường đang phát"]
    assert emergency.commands.filter(kind="emergency_stop").count() == 4
    assert ModelLogEntry.objects.filter(action="broadcast.emergency_stop").count() == 1


def test_a_scheduler_starts_an_emergency_on_a_zone_of_their_commune(world):
    # The policy gives schedulers the emergency right (newsroom.policy); no extra permission.
    scheduler = world["scheduler"]
    emergency_start(
        user=scheduler, name="Cháy chợ", targets=[{"zone": world["zone"]}], tts_text="Cháy"
    )
    assert entries_of(world, "A2")[0].bulletin_class == "emergency"
    assert entries_of(world, "A1") == []


def test_a_withdrawn_item_disappears_from_every_timeline(world):
    units, items, admin = world["units"], world["items"], world["admin"]
    programme_create(
        user=admin,
        name="Tỉnh",
        targets=[{"unit": units["P"]}],
        slots=[playlist([items["bt1"], items["bt2"]], at=soon(30))],
    )
    assert len(entries_of(world, "C1")[0].parts) == 2
    item = items["bt1"]
    item.withdrawn_at = timezone.now()
    item.live = False
    item.save()
    item_withdrawn.send(sender=type(item), item_id=item.pk, version=item.version)
    for name in ["A1", "A2", "B1", "C1"]:
        parts = entries_of(world, name)[0].parts
        assert [p["headline"] for p in parts] == ["Bản tin tỉnh"]


def test_boards_get_text_items_and_tts_text(world):
    admin, units, items = world["admin"], world["units"], world["items"]
    programme_create(
        user=admin,
        name="Bảng tin",
        targets=[{"unit": units["A"]}],
        slots=[
            {
                "starts_at": soon(5),
                "content": "display",
                "items": [items["article"].pk],
                "duration_seconds": 120,
            }
        ],
    )
    entries = entries_of(world, "board")
    assert entries[0].parts[0]["type"] == "display"
    assert entries[0].parts[0]["headline"] == "Tin chữ về chợ phiên"
    assert entries_of(world, "A1") == []  # loudspeakers do not play display items


def test_a_tts_bulletin_is_rendered_to_audio_for_loudspeakers(world):
    from broadcast.services import slot_tts_render
    from media.services import rendition_build

    programme = programme_create(
        user=world["admin"],
        name="Đọc tin",
        targets=[{"cluster": world["clusters"]["A1"]}],
        slots=[{"starts_at": soon(10), "content": "tts", "tts_text": "Xin chào bà con."}],
    )
    slot = programme.slots.get()
    before = entries_of(world, "A1")[0].parts[0]
    assert before["type"] == "tts" and before["text"] == "Xin chào bà con."
    assert slot_tts_render(slot_id=slot.pk) is True
    slot.refresh_from_db()
    rendition_build(asset_id=slot.tts_asset_id, profile="loudspeaker")
    part = entries_of(world, "A1")[0].parts[0]
    assert part["type"] == "audio" and part["tts"] is True and part["duration"] > 0.3


def test_a_revision_needs_the_rights_on_both_versions_and_emergencies_are_not_revised(world):
    from broadcast.services import programme_revise

    units, items, admin = world["units"], world["items"], world["admin"]
    district_wide = programme_create(
        user=admin,
        name="Bản tin huyện",
        targets=[{"unit": units["X"]}],
        slots=[playlist([items["bt2"]], at=soon(60))],
    )
    # The commune scheduler may schedule for A, not stop the district's programme.
    with pytest.raises(PermissionDenied):
        programme_revise(
            user=world["scheduler"],
            programme=district_wide,
            name="Thu hẹp",
            bulletin_class="normal",
            targets=[{"unit": units["A"]}],
            slots=[playlist([items["bt1"]], at=soon(90))],
        )
    district_wide.refresh_from_db()
    assert district_wide.stopped_at is None and not Programme.objects.filter(name="Thu hẹp")

    alarm = emergency_start(user=admin, name="Lũ", targets=[{"unit": units["A"]}], tts_text="Lũ")
    with pytest.raises(ValidationError):
        programme_revise(
            user=admin,
            programme=alarm,
            name="Lũ (sửa)",
            bulletin_class="normal",
            targets=[{"unit": units["A"]}],
            slots=[playlist([items["bt1"]], at=soon(90))],
        )


@pytest.mark.django_db(transaction=True)
def test_stop_and_revise_open_their_own_transaction(world):
    """Called from a script, a task or the device API (no request transaction around them),
    stopping and editing still lock the row and commit as one."""
    from broadcast.services import programme_revise

    units, items, admin = world["units"], world["items"], world["admin"]
    first = programme_create(
        user=admin,
        name="Sáng",
        targets=[{"unit": units["A"]}],
        slots=[playlist([items["bt1"]], at=soon(60))],
    )
    revised = programme_revise(
        user=admin,
        programme=first,
        name="Sáng (sửa)",
        bulletin_class="normal",
        targets=[{"unit": units["A"]}],
        slots=[playlist([items["bt1"]], at=soon(120))],
    )
    first.refresh_from_db()
    assert first.stopped_at is not None and revised.replaces_id == first.pk
    programme_stop(user=admin, programme=revised)
    revised.refresh_from_db()
    assert revised.stopped_at is not None
    assert entries_of(world, "A1") == []
