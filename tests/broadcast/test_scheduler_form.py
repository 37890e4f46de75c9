"""The scheduler's form as a commune official uses it: repeat controls instead of RRULE
text, a tree of places, only items that can play (with their length), errors at the top
and beside the field, and a conflict table with real, distinct times."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from broadcast.models import Programme, Slot
from broadcast.timeline import LOCAL_TZ
from media.models import Rendition
from tests.factories import make_audio_asset, make_published_item

from .helpers import timeline

pytestmark = pytest.mark.django_db
ADD = "broadcast_programme_add"


@pytest.fixture
def client(world):
    client = Client()
    client.force_login(world["scheduler"])
    return client


def tomorrow():
    return timezone.localtime(timezone.now(), LOCAL_TZ).date() + timedelta(days=1)


def data(world, **overrides):
    return {
        "name": "Bản tin sáng",
        "bulletin_class": "normal",
        "target_units": [world["units"]["A"].pk],
        "repeat": "daily",
        "first_day": f"{tomorrow():%d/%m/%Y}",
        "times": "06:00",
        "content": "playlist",
        "items": [world["items"]["bt1"].pk],
        "tts_speed": "1.0",
        **overrides,
    }


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_daily_bulletin_at_two_times_is_scheduled_with_controls_and_listed_in_words(
    world, client
):
    page = client.get(reverse(ADD)).content.decode()
    assert "FREQ" not in page and "RRULE" not in page
    assert "Hằng ngày" in page and "Giờ phát trong ngày" in page
    response = client.post(reverse(ADD), data(world, times="06:00, 17:30"), follow=True)
    assert response.redirect_chain, text(response.content.decode())[:2000]
    html = text(response.content.decode())
    assert "Hằng ngày lúc 06:00 và 17:30, từ" in html  # the success message and the list
    programme = Programme.objects.get()
    assert programme.slots.count() == 2  # 06:00 and 17:30 cannot share one RRULE
    # The loudspeaker of commune A plays it at both times.
    _device, token = world["devices"]["A1"]
    starts = {f"{timezone.localtime(e.start, LOCAL_TZ):%H:%M}" for e in timeline(token)}
    assert starts == {"06:00", "17:30"}


def test_chosen_weekdays_and_the_edit_form_reads_the_controls_back(world, client):
    client.post(
        reverse(ADD), data(world, repeat="weekdays", weekdays=["MO", "WE", "FR"], times="7:15")
    )
    programme = Programme.objects.get()
    listing = text(client.get(reverse("broadcast_programmes")).content.decode())
    assert "Thứ Hai, thứ Tư và thứ Sáu hằng tuần lúc 07:15" in listing
    edit = client.get(reverse("broadcast_programme_edit", args=[programme.pk])).content.decode()
    assert re.search(r'value="weekdays"[^>]*checked', edit)
    for day in ("MO", "WE", "FR"):
        assert re.search(rf'value="{day}"[^>]*checked', edit)
    assert not re.search(r'value="TU"[^>]*checked', edit)
    assert 'value="07:15"' in edit


def test_targets_are_a_tree_of_the_schedulers_units_zones_and_clusters(world, client):
    html = client.get(reverse(ADD)).content.decode()
    tree = html[html.index('class="bc-tree"') :]
    units, clusters = world["units"], world["clusters"]
    # Commune A with its zone and both clusters; nothing from commune B or C.
    assert f'name="target_units" value="{units["A"].pk}"' in tree
    assert f'name="target_zones" value="{world["zone"].pk}"' in tree
    for name in ("A1", "A2"):
        assert f'name="target_clusters" value="{clusters[name].pk}"' in tree
    for name in ("B1", "C1"):
        assert f'name="target_clusters" value="{clusters[name].pk}"' not in tree
    assert "<select" not in html.split('id="bc-field-target_units"')[1].split("</fieldset>")[0]
    assert "Vùng: Chợ" in text(tree) and "2 cụm loa" in text(tree)
    # A district scheduler sees the district, its communes and their clusters, nested.
    district = Client()
    district.force_login(world["district_scheduler"])
    tree = district.get(reverse(ADD)).content.decode()
    x = tree.index(f'name="target_units" value="{units["X"].pk}"')
    a = tree.index(f'name="target_units" value="{units["A"].pk}"')
    b = tree.index(f'name="target_units" value="{units["B"].pk}"')
    assert x < a and x < b
    assert (
        f'name="target_clusters" value="{clusters["C1"].pk}"' not in tree
    )  # commune C is in another district
    # Ticking a zone schedules it.
    response = client.post(
        reverse(ADD), data(world, target_units=[], target_zones=[world["zone"].pk])
    )
    assert response.status_code == 302
    assert Programme.objects.get().targets.get().zone == world["zone"]


def test_only_items_that_can_play_are_offered_with_their_length(world, client, tmp_path):
    pending = make_published_item(
        world["units"]["A"],
        "Bản tin đang xử lý",
        audio=make_audio_asset(tmp_path / "p", seconds=1.0, name="p", transcode=False),
    )
    html = client.get(reverse(ADD)).content.decode()
    items = html[html.index('id="bc-field-items"') : html.index('id="bc-field-tts_item"')]
    assert "Thông báo tiêm chủng (0:02)" in text(items)  # bt1 is 2 s long
    assert pending.headline not in items  # its loudspeaker MP3 is not ready
    assert world["items"]["draft"].headline not in html  # never approved
    article = world["items"]["article"]
    assert article.headline not in items  # an article only through text-to-speech…
    tts = html[html.index('id="bc-field-tts_item"') : html.index('id="bc-field-tts_text"')]
    assert article.headline in tts  # …where it is offered
    assert not Rendition.objects.filter(asset=pending.audio, status="ready").exists()


def test_an_article_is_read_aloud_through_the_same_service(world, client):
    article = world["items"]["article"]
    response = client.post(reverse(ADD), data(world, content="tts", items=[], tts_item=article.pk))
    assert response.status_code == 302
    slot = Slot.objects.get()
    assert slot.content == "tts" and slot.tts_text.startswith(article.headline)


def test_errors_are_listed_at_the_top_and_beside_each_field(world, client):
    response = client.post(
        reverse(ADD),
        data(world, times="6 giờ", target_units=[], repeat="weekdays", name=""),
    )
    assert response.status_code == 200 and not Programme.objects.exists()
    html = response.content.decode()
    summary = html[
        html.index('id="bc-errors"') : html.index("</div>", html.index('id="bc-errors"'))
    ]
    for field in ("name", "times", "weekdays", "target_units"):
        assert f'href="#bc-field-{field}"' in summary
        wrapper = html[html.index(f'id="bc-field-{field}"') :][:3000]
        assert 'class="error-message"' in wrapper.split('id="bc-field-')[1]
    assert "không phải giờ trong ngày" in text(summary)
    # A service refusal (the past) lands beside the times.
    yesterday = tomorrow() - timedelta(days=2)
    response = client.post(
        reverse(ADD), data(world, repeat="once", first_day=f"{yesterday:%d/%m/%Y}")
    )
    html = response.content.decode()
    times = html[html.index('id="bc-field-times"') :].split('id="bc-field-weekdays"')[0]
    assert "quá khứ" in text(times)


def test_the_conflict_table_shows_one_row_per_overlap_with_real_times(world, client):
    assert client.post(reverse(ADD), data(world)).status_code == 302
    again = client.post(reverse(ADD), data(world, name="Trùng giờ"))
    html = again.content.decode()
    rows = re.findall(r"<tr><td>Bản tin sáng</td>.*?</tr>", html, re.S)
    # Seven days of overlaps at 06:00 are one row naming the days, and the overlap lasts
    # as long as bt1 really plays (2 s): not seven rows of "06:00 – 06:00".
    assert len(rows) == 1, rows
    assert "06:00 – 06:00:02" in rows[0]
    days = re.findall(r"\d\d/\d\d", rows[0])
    assert len(days) == len(set(days)) >= 6
    assert "Hằng ngày lúc 06:00" in text(html)  # what this programme would do
