"""The whole journey in a real browser (Playwright driving Debian Chromium).

A commune reporter writes an article with an audio bulletin in the Vietnamese admin; the
commune, district and province approvers each approve it from their dashboards; the portal
shows it with an audio player that plays; the RSS feed lists it; a loudspeaker fetches its
timeline and downloads the MP3. A real Celery worker transcodes. Screenshots of every step
go to ``artifacts/browser/``.
"""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from broadcast.models import Cluster, Device
from broadcast.services import device_token_issue, programme_create
from media.models import Rendition
from newsroom.models import Category, NewsItem, Role
from tests.factories import make_audio, make_tree, make_user
from tests.support import wait_for

from .helpers import CHROMIUM_ARGS

HEADLINE = "Xã Tân Đồng thông báo lịch tiêm chủng mở rộng"
PASSWORD = "mat-khau-thu-nghiem-2026"


def _login(page, base, username):
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.django_db(transaction=True)
def test_browser_journey_reporter_to_portal_feed_and_loudspeaker(
    chromium_path, artifacts_dir, portal_home, live_server, celery_worker, tmp_path, monkeypatch
):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls below are
    # plain synchronous test code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    units = make_tree(three_level=True)
    commune, district, province = units["A"], units["X"], units["P"]
    people = {
        "phongvien": (commune, Role.REPORTER),
        "duyet_xa": (commune, Role.APPROVER),
        "duyet_huyen": (district, Role.APPROVER),
        "duyet_tinh": (province, Role.APPROVER),
    }
    for username, (unit, role) in people.items():
        user = make_user(username, unit=unit, role=role)
        user.set_password(PASSWORD)
        user.save()
    # Seeded by a data migration; an earlier transactional test may have flushed it.
    category, _ = Category.objects.get_or_create(
        slug="thien-tai-hoa-hoan-dich-benh", defaults={"name": "Thiên tai, hỏa hoạn, dịch bệnh"}
    )
    cluster = Cluster.objects.create(name="Cụm loa thôn 1", commune=commune)
    device = Device.objects.create(cluster=cluster, serial="LOA-BROWSER-1")
    token = device_token_issue(device=device)
    wav = make_audio(tmp_path / "ban-tin", seconds=6, channels=2)
    base = live_server.url
    shots = []

    def shot(page, name):
        path = artifacts_dir / f"{len(shots) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        shots.append(path)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            # 1. The reporter writes the article and uploads the bulletin, then submits.
            ctx = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
            page = ctx.new_page()
            _login(page, base, "phongvien")
            shot(page, "phong-vien-bang-dieu-khien")
            page.goto(f"{base}/admin/snippets/newsroom/newsitem/add/")
            assert "Tiêu đề" in page.content()
            page.select_option("#id_unit", str(commune.pk))
            page.select_option("#id_kind", "audio")
            # The category is a snippet chooser: open it and pick from the modal.
            page.locator(
                "[data-contentpath=category] button[data-chooser-action-choose]"
            ).first.click()
            page.locator("a[data-chooser-modal-choice]", has_text=category.name).first.click()
            page.wait_for_function(
                f"() => document.querySelector('#id_category').value === '{category.pk}'"
            )
            page.fill("#id_headline", HEADLINE)
            page.fill("#id_summary", "Trẻ em dưới 5 tuổi được tiêm chủng đầy đủ, đúng lịch.")
            editor = page.locator("[data-contentpath=body] [contenteditable=true]").first
            editor.click()
            editor.type("Trạm y tế xã tổ chức tiêm chủng mở rộng vào sáng thứ Bảy.")
            page.fill("#id_byline", "Nguyễn Văn Phóng")
            page.set_input_files("#id_audio_file", str(wav))
            shot(page, "phong-vien-viet-tin")
            page.locator("footer [data-w-dropdown-target=toggle]").first.click()
            page.locator("button[name=action-submit]").click()
            page.wait_for_url(lambda url: "/add/" not in url, timeout=60_000)
            shot(page, "phong-vien-da-gui-duyet")
            item = NewsItem.objects.get(headline=HEADLINE)
            assert item.workflow_in_progress and item.audio_id
            ctx.close()

            # 2. Commune, district and province approve from their dashboards.
            for username in ("duyet_xa", "duyet_huyen", "duyet_tinh"):
                ctx = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
                page = ctx.new_page()
                _login(page, base, username)
                shot(page, f"{username}-cho-duyet")
                row = page.locator("table.listing--dashboard tr", has_text=HEADLINE)
                row.wait_for()
                row.locator("[data-w-dropdown-target=toggle]").click()
                row.locator("button[data-workflow-action-url*='/approve/']").filter(
                    has_not=page.locator("[data-launch-modal]")
                ).first.click()
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(500)
                shot(page, f"{username}-da-duyet")
                ctx.close()
            item.refresh_from_db()
            assert item.live, "the province approval publishes the item"

            # 3. The portal plays the bulletin once the worker has transcoded it.
            rendition = wait_for(
                lambda: Rendition.objects.filter(
                    asset=item.audio, profile="loudspeaker", status=Rendition.Status.READY
                ).first(),
                timeout=180,
                what="the loudspeaker MP3",
            )
            ctx = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
            page = ctx.new_page()
            page.goto(f"{base}/")
            assert HEADLINE in page.content()
            shot(page, "cong-thong-tin-trang-chu")
            page.goto(f"{base}{item.public_path}")
            audio = page.locator("audio").first
            audio.wait_for(state="attached")
            page.evaluate("() => document.querySelector('audio').play()")
            page.wait_for_function(
                "() => { const a = document.querySelector('audio');"
                " return a && !a.paused && a.currentTime > 0.3; }",
                timeout=30_000,
            )
            first = page.evaluate("() => document.querySelector('audio').currentTime")
            page.wait_for_timeout(700)
            state = page.evaluate(
                "() => { const a = document.querySelector('audio');"
                " return {paused: a.paused, t: a.currentTime, src: a.currentSrc}; }"
            )
            assert state["paused"] is False and state["t"] > first
            shot(page, "cong-thong-tin-dang-phat")

            # 4. The RSS feed lists it.
            response = page.goto(f"{base}/feeds/rss/")
            assert response.status == 200
            assert HEADLINE in response.text()
            shot(page, "rss")
            ctx.close()

            # 5. The commune's scheduler puts it on the loudspeakers; a loudspeaker fetches
            # its timeline and downloads the MP3.
            programme_create(
                user=make_user("laplich_browser", unit=commune, role=Role.SCHEDULER),
                name="Bản tin tiêm chủng",
                targets=[{"unit": commune}],
                slots=[{"starts_at": timezone.now() + timedelta(hours=1), "items": [item.pk]}],
            )
            ctx = browser.new_context(
                extra_http_headers={"Authorization": f"Bearer {token}"},
                viewport={"width": 1280, "height": 900},
            )
            page = ctx.new_page()
            timeline = page.goto(f"{base}/api/v1/devices/{device.pk}/timeline")
            assert timeline.status == 200, timeline.text()
            shot(page, "loa-timeline")
            parts = [p for e in timeline.json().get("entries", []) for p in e.get("parts", [])]
            listed = [p for p in parts if p.get("headline") == HEADLINE]
            assert listed, json.dumps(timeline.json(), ensure_ascii=False)[:1000]
            mp3_url = next(
                (p["url"] for p in parts if f"/media/{rendition.pk}" in p.get("url", "")),
                listed[0]["url"],
            )
            mp3 = ctx.request.get(mp3_url)
            assert mp3.ok and mp3.headers["content-type"] == "audio/mpeg"
            body = mp3.body()
            assert len(body) == rendition.size
            assert body[:3] == b"ID3" or body[0] == 0xFF  # an MP3 frame or its ID3 tag
            (artifacts_dir / "loa-ban-tin.mp3").write_bytes(body)
            ctx.close()
        finally:
            browser.close()
    assert len(shots) >= 12
