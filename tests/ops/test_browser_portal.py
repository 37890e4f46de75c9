"""The portal in Chromium at a desktop (1366 px) and a phone (390 px) width.

Every page type (home, unit directory, unit, category, article, audio and video items,
search with and without results, the 404 page) is checked by axe-core (the npm package
pinned in ``tests/browser/package.json``, installed by ``npm ci --prefix tests/browser``)
against WCAG 2.1 A and AA: a serious or critical violation fails with the rule, the
elements and axe's advice. Each page is photographed in full under
``artifacts/browser/portal/`` (CI keeps ``artifacts/``). The main navigation is one line on
a desktop; on a phone the categories open from their button with Enter, close with Escape
(focus back on the button) and all nine fit the screen.
"""

from pathlib import Path

import pytest
from django.conf import settings

from media.services import asset_create, rendition_build
from newsroom.models import Category, NewsItem
from portal.models import HomePageFeaturedItem
from search.services import item_index
from tests.factories import make_audio_asset, make_tree, make_upload, make_video
from tests.portal.helpers import make_image, publish
from tests.support import require

from .helpers import CHROMIUM_ARGS

AXE = Path(settings.BASE_DIR) / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = [(1366, 900), (390, 844)]  # a desktop, a phone
NINTH_CATEGORY = ("thong-tin-doi-ngoai-hop-tac-quoc-te", "Thông tin đối ngoại, hợp tác quốc tế")


@pytest.fixture
def axe_source() -> str:
    require(
        "browser",
        AXE.exists(),
        f"axe-core is not installed at {AXE} (run: npm ci --prefix tests/browser)",
    )
    return AXE.read_text()


def demo_like_portal(home, tmp_path) -> dict[str, str]:
    """A province as the demo has it (identity, nine categories, units three levels deep)
    with articles, one with a lead picture (caption, credit) and a gallery, an audio
    bulletin and a video; returns the paths to check."""
    from cms.management.commands.load_demo import demo_identity

    demo_identity()
    Category.objects.get_or_create(
        slug=NINTH_CATEGORY[0], defaults={"name": NINTH_CATEGORY[1], "sort_order": 8}
    )
    categories = list(Category.objects.order_by("sort_order", "name"))
    assert len(categories) == 9
    units = make_tree(three_level=True)
    commune = units["A"]
    image = make_image(description="Người dân xếp hàng chờ tiêm chủng tại trạm y tế xã")
    gallery = [
        make_image(description="Cán bộ y tế tiêm vắc xin cho trẻ", title="tiem.png"),
        make_image(description="Phụ huynh ký sổ tiêm chủng", title="so.png", size=(480, 640)),
    ]
    article = publish(
        commune,
        "Xã Tân Đồng tổ chức tiêm chủng mở rộng cho trẻ em dưới 5 tuổi",
        image=image,
        image_caption="Sáng 03/12 tại trạm y tế xã Tân Đồng",
        image_credit="Ảnh: Lê Văn Chụp",
        gallery=[
            ("picture", {"image": gallery[0], "caption": "Mũi tiêm đầu tiên", "credit": ""}),
            ("picture", {"image": gallery[1], "caption": "", "credit": "Ảnh: Trần Thị Hai"}),
        ],
        category=categories[4],
        summary="Trạm y tế xã tiêm chủng đầy đủ, đúng lịch cho hơn 300 trẻ em.",
        body="<p>Các gia đình đưa trẻ đến trạm y tế từ 7 giờ sáng.</p>",
        byline="Nguyễn Văn Phóng",
        minutes_ago=30,
    )
    audio_asset = make_audio_asset(tmp_path / "audio", seconds=2.0)
    for profile in ("web_audio", "waveform"):
        rendition_build(asset_id=audio_asset.pk, profile=profile)
    audio = publish(
        commune,
        "Bản tin phát thanh sáng thứ Hai",
        audio=audio_asset,
        category=categories[1],
        transcript="Kính thưa bà con.\nSáng nay xã tổ chức tiêm chủng.",
        minutes_ago=20,
    )
    video_asset = asset_create(upload=make_upload(make_video(tmp_path / "clip")), kind="video")
    for profile in ("web_video_720", "web_video_480", "poster"):
        rendition_build(asset_id=video_asset.pk, profile=profile)
    video = publish(
        units["X"],
        "Video: lễ ra quân ngày chủ nhật xanh",
        video=video_asset,
        category=categories[5],
        summary="Hơn 300 đoàn viên ra quân làm sạch môi trường.",
        minutes_ago=10,
    )
    for n, category in enumerate(categories):
        publish(
            units["C"] if n % 2 else units["B"],
            f"Tin {category.name.lower()} số {n + 1}",
            category=category,
            summary="Tóm tắt tin để người đọc biết nội dung chính.",
            minutes_ago=60 + n,
        )
    HomePageFeaturedItem.objects.create(page=home, item=article, sort_order=0)
    HomePageFeaturedItem.objects.create(page=home, item=video, sort_order=1)
    for item in NewsItem.objects.filter(live=True):
        item_index(item_id=item.pk)
    return {
        "home": "/",
        "units": "/don-vi/",
        "unit": f"/don-vi/{commune.code}/",
        "category": f"/chuyen-muc/{categories[4].slug}/",
        "item-article": article.public_path,
        "item-audio": audio.public_path,
        "item-video": video.public_path,
        "search": "/search/?q=ti%C3%AAm+ch%E1%BB%A7ng",
        "search-empty": "/search/?q=kh%C3%B4ng+c%C3%B3+g%C3%AC+c%E1%BA%A3",
        # "tiêm chủngg": nothing found, "Có phải bạn muốn tìm tiêm chủng?" shown
        "search-did-you-mean": "/search/?q=ti%C3%AAm+ch%E1%BB%A7ngg",
        "not-found": "/trang-khong-ton-tai/",
    }


def serious_violations(page, axe_source: str) -> tuple[list[dict], list[dict]]:
    """axe-core's WCAG 2.1 A/AA violations on the page: (serious or critical, the rest)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    violations = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {
                runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'],
            });
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html,
                                          summary: n.failureSummary})),
            }));
        }""",
        WCAG_TAGS,
    )
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    return serious, [v for v in violations if v not in serious]


def describe(where: str, violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{where}: [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            lines.append(f"    {node['target']}  {node['html'][:160]}")
            lines.append("      " + (node["summary"] or "").replace("\n", "\n      "))
    return "\n".join(lines)


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.django_db(transaction=True)
def test_every_portal_page_type_passes_axe_at_desktop_and_phone_widths_and_is_photographed(
    chromium_path, axe_source, artifacts_dir, portal_home, live_server, tmp_path, monkeypatch
):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    pages = demo_like_portal(portal_home, tmp_path)
    shots = artifacts_dir / "portal"
    shots.mkdir(parents=True, exist_ok=True)
    failures, minor = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            for width, height in WIDTHS:
                ctx = browser.new_context(
                    locale="vi-VN",
                    viewport={"width": width, "height": height},
                    bypass_csp=True,  # axe is injected as an inline script
                )
                page = ctx.new_page()
                for name, path in pages.items():
                    response = page.goto(f"{live_server.url}{path}")
                    expected = 404 if name == "not-found" else 200
                    assert response.status == expected, f"{path}: {response.status}"
                    page.wait_for_load_state("load")
                    page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
                    # Nothing wider than the screen: no sideways scrolling on a phone.
                    overflow = page.evaluate(
                        "() => document.documentElement.scrollWidth - window.innerWidth"
                    )
                    assert overflow <= 0, f"{path} at {width} px scrolls sideways by {overflow} px"
                    serious, rest = serious_violations(page, axe_source)
                    where = f"{path} at {width} px"
                    if serious:
                        failures.append(describe(where, serious))
                    if rest:
                        minor.append(describe(where, rest))
                    if name == "home":  # and with the categories menu open
                        page.locator(".site-nav__categories > summary").click()
                        serious, rest = serious_violations(page, axe_source)
                        failures += [describe(f"{where}, menu open", serious)] if serious else []
                        minor += [describe(f"{where}, menu open", rest)] if rest else []
                ctx.close()
        finally:
            browser.close()
    if minor:
        print("axe-core, moderate and minor (not failing):\n" + "\n".join(minor))
    assert not failures, "axe-core, serious or critical:\n" + "\n".join(failures)


def toggle_state(ctx, page) -> tuple[str, bool]:
    """How Chromium presents the categories' toggle to assistive technology: its role (a
    <summary> is a disclosure button) and whether it says it is expanded."""
    cdp = ctx.new_cdp_session(page)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    node = next(
        n
        for n in nodes
        if n.get("name", {}).get("value") == "Chuyên mục"
        and not n["ignored"]
        and n["role"]["value"] not in ("StaticText", "InlineTextBox")
    )
    role = node["role"]["value"]
    expanded = {p["name"]: p["value"]["value"] for p in node.get("properties", [])}.get(
        "expanded", False
    )
    return ("button" if role in ("button", "DisclosureTriangle") else role), expanded


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.django_db(transaction=True)
def test_the_menu_is_one_line_on_a_desktop_and_opens_from_a_button_on_a_phone(
    chromium_path, artifacts_dir, portal_home, live_server, monkeypatch
):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    Category.objects.get_or_create(
        slug=NINTH_CATEGORY[0], defaults={"name": NINTH_CATEGORY[1], "sort_order": 8}
    )
    names = list(Category.objects.order_by("sort_order", "name").values_list("name", flat=True))
    assert len(names) == 9
    shots = artifacts_dir / "portal"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            # Desktop: Home, Categories and Units on one line (one row of the same top).
            ctx = browser.new_context(locale="vi-VN", viewport={"width": 1366, "height": 900})
            page = ctx.new_page()
            page.goto(f"{live_server.url}/")
            nav = page.locator('nav[aria-label="Điều hướng chính"]')
            tops = nav.locator(".site-nav__bar > li").evaluate_all(
                "items => items.map(li => Math.round(li.getBoundingClientRect().top))"
            )
            assert len(tops) == 3 and len(set(tops)) == 1, tops
            line = page.evaluate(
                "() => { const a = document.querySelector('.site-nav__bar > li > a');"
                " return a.getBoundingClientRect().height; }"
            )
            assert nav.bounding_box()["height"] <= line * 1.5
            ctx.close()

            # Phone: the categories are behind one button; the keyboard opens and closes it.
            ctx = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 844})
            page = ctx.new_page()
            page.goto(f"{live_server.url}/")
            nav = page.locator('nav[aria-label="Điều hướng chính"]')
            toggle = nav.locator("summary", has_text="Chuyên mục")
            assert toggle_state(ctx, page) == ("button", False)
            assert not nav.get_by_role("link", name=names[0], exact=True).is_visible()
            page.keyboard.press("Tab")  # the skip link comes first
            while page.evaluate("() => document.activeElement.tagName") != "SUMMARY":
                page.keyboard.press("Tab")
            page.keyboard.press("Enter")
            assert toggle_state(ctx, page) == ("button", True)
            for name in names:
                link = nav.get_by_role("link", name=name, exact=True)
                assert link.is_visible(), name
                box = link.bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (name, box)
            page.screenshot(path=str(shots / "menu-open-390.png"), full_page=True)
            # Tab walks into the list, in order.
            page.keyboard.press("Tab")
            focused = page.evaluate("() => document.activeElement.textContent.trim()")
            assert focused == names[0]
            # A tap outside (in the search box) closes it.
            page.locator("#q").click()
            assert not nav.get_by_role("link", name=names[0], exact=True).is_visible()
            toggle.click()
            assert nav.get_by_role("link", name=names[0], exact=True).is_visible()
            page.keyboard.press("Tab")
            # Escape closes it and puts the focus back on its button.
            page.keyboard.press("Escape")
            assert not nav.get_by_role("link", name=names[0], exact=True).is_visible()
            assert page.evaluate("() => document.activeElement.textContent.trim()") == (
                "Chuyên mục"
            )
            # Every category is reachable: open again and follow the last one.
            assert toggle_state(ctx, page) == ("button", False)
            page.keyboard.press("Enter")
            for _ in names:
                page.keyboard.press("Tab")
            assert page.evaluate("() => document.activeElement.textContent.trim()") == names[-1]
            page.keyboard.press("Enter")
            page.wait_for_url(f"{live_server.url}/chuyen-muc/{NINTH_CATEGORY[0]}/")
            assert page.locator("h1").inner_text() == names[-1]
            ctx.close()
        finally:
            browser.close()
