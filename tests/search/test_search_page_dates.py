"""The date filters of ``/search/`` as a reader in Viet Nam writes them: dd/mm/yyyy in
plain text boxes (never the browser's locale-dependent date picker), ISO yyyy-mm-dd still
accepted for links made before, a Vietnamese message for a date that does not exist, and
the filters' panel that says how many filters are in use."""

import re

from django.test import Client
from django.urls import reverse

from .test_behaviour import portal_headlines

DONG_XOAI = "Đồng Xoài triển khai tiêm chủng mở rộng cho trẻ em dưới 5 tuổi"


def portal(params):
    return Client().get(reverse("search"), params)


def date_input(content: str, name: str) -> str:
    match = re.search(rf'<input id="search-{name}" name="{name}"[^>]*>', content)
    assert match, f"no {name} input"
    return match.group(0)


def test_dates_written_dd_mm_yyyy_filter_and_are_shown_back_as_written(corpus):
    response = portal({"q": "tiem chung", "tu": "01/11/2026", "den": "3/11/2026"})
    assert response.status_code == 200
    assert portal_headlines(response) == [DONG_XOAI]
    content = response.content.decode()
    start, end = date_input(content, "tu"), date_input(content, "den")
    for box in (start, end):
        assert 'type="text"' in box and 'inputmode="numeric"' in box
        assert 'placeholder="ngày/tháng/năm"' in box and "pattern=" in box
        assert 'type="date"' not in box
    assert 'value="01/11/2026"' in start and 'value="03/11/2026"' in end
    # the filters in use, with their dates as the reader reads them
    assert "Từ ngày: 01/11/2026" in content and "Đến ngày: 03/11/2026" in content
    assert "Bộ lọc (2 đang chọn)" in content


def test_iso_dates_of_older_links_still_filter_and_show_as_dd_mm_yyyy(corpus):
    response = portal({"q": "tiem chung", "tu": "2026-11-01", "den": "2026-11-03"})
    assert response.status_code == 200
    assert portal_headlines(response) == [DONG_XOAI]
    content = response.content.decode()
    assert 'value="01/11/2026"' in date_input(content, "tu")
    assert 'value="03/11/2026"' in date_input(content, "den")


def test_the_month_facet_is_marked_chosen_whichever_way_its_dates_were_written(corpus):
    iso = portal({"q": "tiem chung", "tu": "2026-11-01", "den": "2026-11-30"}).content.decode()
    typed = portal({"q": "tiem chung", "tu": "01/11/2026", "den": "30/11/2026"}).content.decode()
    chosen = re.compile(r'<a href="[^"]*tu=2026-11-01&amp;den=2026-11-30" aria-current="true">')
    assert chosen.search(iso) and chosen.search(typed)


def test_a_date_that_does_not_exist_is_explained_in_vietnamese_and_kept_to_correct(corpus):
    for params, message, name, kept in [
        ({"tu": "31/02/2026"}, "Từ ngày: không phải là ngày hợp lệ", "tu", "31/02/2026"),
        # mm/dd/yyyy, as an English date picker would write it: month 31 does not exist
        ({"den": "12/31/2026"}, "Đến ngày: không phải là ngày hợp lệ", "den", "12/31/2026"),
        ({"tu": "hôm qua"}, "Từ ngày: không phải là ngày hợp lệ", "tu", "hôm qua"),
    ]:
        response = portal({"q": "tiem chung", **params})
        assert response.status_code == 400, params
        content = response.content.decode()
        assert 'role="alert"' in content and message in content, params
        assert "ngày/tháng/năm, ví dụ 03/12/2026" in content
        assert f'value="{kept}"' in date_input(content, name)
        assert portal_headlines(response) == []
        # the panel is open so that the reader sees the box to correct
        assert re.search(r'<details class="search-filters"[^>]* open>', content), params


def test_without_filters_the_panel_is_closed_and_counts_nothing(corpus):
    content = portal({"q": "tiem chung"}).content.decode()
    assert re.search(r'<details class="search-filters" data-open-wide>', content)
    assert "<summary>Bộ lọc</summary>" in content
    assert "đang chọn" not in content
    assert len(portal_headlines(portal({"q": "tiem chung"}))) > 1
