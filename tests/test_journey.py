"""One item's whole journey, driven through the Wagtail admin as people would.

A commune reporter writes an article with an audio bulletin and submits it; the commune,
district and province approvers approve it in turn; then the item is on the portal's home
page, in the RSS feed, found by a search without diacritics, and in the commune
loudspeaker's timeline with a decodable mono MP3 — transcoded and indexed by a real Celery
worker process.
"""

import io
import re
from datetime import timedelta

import av
import feedparser
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from wagtail.test.utils.form_data import rich_text

from broadcast.models import Cluster, Device
from broadcast.services import device_token_issue
from media.models import Rendition
from newsroom.models import Category, NewsItem, Role
from tests.support import wait_for

from .factories import make_audio, make_tree, make_user

ADD_URL = "wagtailsnippets_newsroom_newsitem:add"
ACTION_URL = "wagtailsnippets_newsroom_newsitem:workflow_action"


def item_form(unit, category, audio_upload, **overrides):
    data = {
        "unit": unit.pk,
        "kind": "audio",
        "category": category.pk,
        "headline": "Đồng Xoài triển khai tiêm chủng mở rộng",
        "summary": "Trẻ em dưới 5 tuổi được tiêm chủng đầy đủ.",
        "body": rich_text("<p>Trạm y tế xã Tân Đồng tổ chức tiêm chủng mở rộng.</p>"),
        "byline": "Nguyễn Văn Phóng",
        "transcript": "Thông báo tiêm chủng.",
        "audio_file": audio_upload,
        "action-submit": "1",
    }
    data.update(overrides)
    return data


def approve(client: Client, item: NewsItem) -> None:
    item.refresh_from_db()
    state = item.current_workflow_state.current_task_state
    response = client.post(reverse(ACTION_URL, args=[item.pk, "approve", state.pk]), {})
    assert response.status_code == 302, response.content[:500]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_item_travels_from_reporter_to_portal_feed_search_and_loudspeaker(celery_worker, tmp_path):
    units = make_tree(three_level=True)
    commune, district, province = units["A"], units["X"], units["P"]
    reporter = make_user("reporter", unit=commune, role=Role.REPORTER)
    approvers = [
        make_user("approver_a", unit=commune, role=Role.APPROVER),
        make_user("approver_x", unit=district, role=Role.APPROVER),
        make_user("approver_p", unit=province, role=Role.APPROVER),
    ]
    category = Category.objects.get(slug="thien-tai-hoa-hoan-dich-benh")
    cluster = Cluster.objects.create(name="Cụm loa thôn 1", commune=commune)
    device = Device.objects.create(cluster=cluster, serial="LOA-1")
    token = device_token_issue(device=device)

    # The reporter writes and submits in the Vietnamese admin.
    client = Client()
    client.force_login(reporter)
    page = client.get(reverse(ADD_URL))
    assert page.status_code == 200
    assert "Tiêu đề" in page.content.decode()  # the form speaks Vietnamese
    wav = make_audio(tmp_path / "bulletin", seconds=4, channels=2)
    upload = SimpleUploadedFile("ban tin.wav", wav.read_bytes(), content_type="audio/wav")
    response = client.post(reverse(ADD_URL), item_form(commune, category, upload))
    assert response.status_code == 302, response.content.decode()[:3000]
    item = NewsItem.objects.get()
    assert item.workflow_in_progress and not item.live

    # Three levels approve in turn; each sees the item waiting at their step.
    for approver in approvers:
        client.force_login(approver)
        approve(client, item)
    item.refresh_from_db()
    assert item.live

    anon = Client()
    # Portal home lists it and the item page carries an audio player.
    home = anon.get("/").content.decode()
    assert item.headline in home
    # Transcoding happens in the worker, not in the request.
    rendition = wait_for(
        lambda: Rendition.objects.filter(
            asset=item.audio, profile="loudspeaker", status=Rendition.Status.READY
        ).first(),
        timeout=120,
        what="the loudspeaker MP3",
    )
    page = anon.get(item.public_path).content.decode()
    assert "<audio" in page and rendition.file.url in page

    # The RSS feed parses and keeps the Vietnamese text; audio is an enclosure.
    feed = feedparser.parse(anon.get("/feeds/rss/").content)
    assert not feed.bozo
    entry = next(e for e in feed.entries if e.title == item.headline)
    assert entry.enclosures[0]["type"] == "audio/mpeg"

    # Search without diacritics finds it once the worker has indexed it (the matched words
    # come back highlighted in <mark>, so compare the text a reader sees).
    def found(q):
        html = anon.get("/search/", {"q": q}).content.decode()
        return item.headline in re.sub(r"<[^>]+>", "", html)

    wait_for(lambda: found("tiem chung"), timeout=60, what="the search index")
    assert found("dong xoai") and found("DONG XOAI") and found("Đồng Xoài")

    # The commune's scheduler puts it on the loudspeakers in the admin; the loudspeaker's
    # timeline lists it with a real mono MP3 to download.
    scheduler = make_user("laplich", unit=commune, role=Role.SCHEDULER)
    admin = Client()
    admin.force_login(scheduler)
    at = timezone.localtime(timezone.now() + timedelta(hours=1))
    scheduled = admin.post(
        reverse("broadcast_programme_add"),
        {
            "name": "Bản tin tiêm chủng",
            "bulletin_class": "normal",
            "target_units": [commune.pk],
            "repeat": "once",
            "first_day": f"{at:%d/%m/%Y}",
            "times": f"{at:%H:%M}",
            "content": "playlist",
            "items": [item.pk],
            "tts_speed": "1.0",
        },
    )
    assert scheduled.status_code == 302
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    timeline = anon.get(f"/api/v1/devices/{device.pk}/timeline", **auth)
    assert timeline.status_code == 200
    entries = [p for e in timeline.json()["entries"] for p in e["parts"]]
    assert [e["headline"] for e in entries] == [item.headline]
    mp3 = anon.get(entries[0]["url"], **auth)
    assert mp3.status_code == 200
    data = b"".join(mp3.streaming_content)
    assert len(data) == entries[0]["size"]
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        assert container.format.name == "mp3"
        assert stream.codec_context.channels == 1
        assert sum(1 for _ in container.decode(stream)) > 10
