"""The portal's search page in Chromium at a phone's and a desktop's width: on a phone the
first result is in the first screenful (the filters fold behind one summary line that the
keyboard opens), on a desktop the filters are open beside the results; the date boxes take
dd/mm/yyyy whatever the browser's language. Reading order is the markup's order: the page
is checked to use no CSS ``order`` and to lay the filters out before the results."""

import pytest

from newsroom.models import Category, NewsItem
from search.services import item_index
from tests.factories import make_tree
from tests.portal.helpers import publish

from .helpers import CHROMIUM_ARGS

QUERY = "/search/?q=ti%C3%AAm+ch%E1%BB%A7ng"


def many_results():
    """Enough items that every facet group (district, category, type, month) has values."""
    units = make_tree(three_level=True)
    categories = list(Category.objects.order_by("sort_order", "name")[:4])
    if len(categories) < 4:
        for n in range(4 - len(categories)):
            categories.append(
                Category.objects.create(slug=f"muc-{n}", name=f"Mục {n}", sort_order=20 + n)
            )
    for n in range(12):
        publish(
            (units["A"], units["B"], units["C"])[n % 3],
            f"Tiêm chủng mở rộng đợt {n + 1} tại trạm y tế",
            category=categories[n % 4],
            kind=("article", "audio", "video")[n % 3],
            summary="Trẻ em dưới 5 tuổi được tiêm chủng đầy đủ, đúng lịch.",
            minutes_ago=60 * 24 * 40 * (n % 2) + n,  # two months
        )
    for item in NewsItem.objects.filter(live=True):
        item_index(item_id=item.pk)


def layout(page) -> dict:
    return page.evaluate(
        """() => {
          const top = (el) => el ? el.getBoundingClientRect().top : null;
          const filters = document.querySelector('details.search-filters');
          const result = document.querySelector('.search-result');
          const ordered = [...document.querySelectorAll('*')].filter(
            (el) => getComputedStyle(el).order !== '0');
          return {
            viewport: window.innerHeight,
            resultTop: top(result),
            resultBottom: result ? result.getBoundingClientRect().bottom : null,
            summaryTop: top(filters.querySelector('summary')),
            open: filters.open,
            facetsVisible: !!document.querySelector('.facets')?.checkVisibility(),
            facetGroups: document.querySelectorAll('.facets .facet').length,
            filtersLeft: filters.getBoundingClientRect().left,
            filtersRight: filters.getBoundingClientRect().right,
            resultLeft: result ? result.getBoundingClientRect().left : null,
            followsInMarkup: !!(filters.compareDocumentPosition(result)
                                & Node.DOCUMENT_POSITION_FOLLOWING),
            ordered: ordered.length,
          };
        }"""
    )


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.django_db(transaction=True)
def test_on_a_phone_the_results_come_first_and_the_filters_open_from_the_keyboard(
    chromium_path, artifacts_dir, live_server, monkeypatch
):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    many_results()
    shots = artifacts_dir / "portal"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            # An English browser: a type="date" box would show mm/dd/yyyy here.
            ctx = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
            page = ctx.new_page()
            assert page.goto(f"{live_server.url}{QUERY}").status == 200
            page.wait_for_load_state("load")
            page.screenshot(path=str(shots / "search-filters-closed-390.png"), full_page=True)
            before = layout(page)
            assert before["facetGroups"] >= 4, before  # district, category, type, month…
            assert not before["open"] and not before["facetsVisible"], before
            # The whole first result is in the first screenful, after the filters' line.
            assert before["resultBottom"] <= before["viewport"], before
            assert before["summaryTop"] < before["resultTop"], before
            assert before["followsInMarkup"] and before["ordered"] == 0, before

            # Tab from the search box: the search button, then the filters' summary.
            page.locator("#search-q").focus()
            page.keyboard.press("Tab")
            assert page.evaluate("() => document.activeElement.type") == "submit"
            page.keyboard.press("Tab")
            focused = page.evaluate("() => document.activeElement.tagName")
            assert focused == "SUMMARY"
            assert page.evaluate("() => document.activeElement.textContent") == "Bộ lọc"
            page.keyboard.press("Enter")
            after = layout(page)
            assert after["open"] and after["facetsVisible"], after
            page.screenshot(path=str(shots / "search-filters-open-390.png"), full_page=True)
            # The next Tab reaches the first date box; a date typed dd/mm/yyyy filters.
            page.keyboard.press("Tab")
            assert page.evaluate("() => document.activeElement.id") == "search-tu"
            page.keyboard.type("01/01/2000")
            page.keyboard.press("Enter")
            page.wait_for_url("**/search/?*tu=01%2F01%2F2000*")
            assert page.locator("#search-tu").input_value() == "01/01/2000"
            assert (
                page.locator(".search-filters > summary")
                .filter(has_text="Bộ lọc (1 đang chọn)")
                .count()
                == 1
            )
            assert page.locator(".search-result").count() > 0
            # Still results first on a phone: the panel stays folded, its line counts.
            assert not layout(page)["open"]
            page.locator(".search-filters > summary").click()
            # A date that does not exist: the browser lets it through (it has the right
            # shape), the page answers in Vietnamese with the panel open on the box.
            page.locator("#search-tu").fill("31/02/2026")
            page.locator("#search-tu").press("Enter")
            page.wait_for_load_state("load")
            assert (
                "Từ ngày: không phải là ngày hợp lệ" in page.locator('[role="alert"]').inner_text()
            )
            assert page.locator("#search-tu").is_visible()
            assert page.locator("#search-tu").input_value() == "31/02/2026"
            ctx.close()

            # Desktop: the filters are open and beside the results (left of them).
            ctx = browser.new_context(locale="vi-VN", viewport={"width": 1366, "height": 900})
            page = ctx.new_page()
            page.goto(f"{live_server.url}{QUERY}")
            page.wait_for_load_state("load")
            page.screenshot(path=str(shots / "search-filters-1366.png"), full_page=True)
            wide = layout(page)
            assert wide["open"] and wide["facetsVisible"], wide
            assert wide["filtersRight"] <= wide["resultLeft"], wide
            assert wide["resultTop"] < wide["viewport"], wide
            ctx.close()
        finally:
            browser.close()
