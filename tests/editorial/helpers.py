"""Helpers of the editorial tests: a logged-in client, an item made in the admin editor."""

import html
import re

from django.test import Client
from django.urls import reverse
from wagtail.test.utils.form_data import rich_text

from newsroom.models import NewsItem

RIGHT, REVERSED = "Nguyễn Văn Phóng", "Phóng Nguyễn Văn"


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def byline_offered(client) -> str:
    page = client.get(reverse("wagtailsnippets_newsroom_newsitem:add")).content.decode()
    match = re.search(r'<input[^>]*name="byline"[^>]*>', page)
    value = re.search(r'value="([^"]*)"', match.group(0))
    return html.unescape(value.group(1)) if value else ""


def created_and_submitted_in_the_editor(tree, people) -> NewsItem:
    client = login(people["rep"])
    byline = byline_offered(client)
    response = client.post(
        reverse("wagtailsnippets_newsroom_newsitem:add"),
        {
            "unit": tree["A"].pk,
            "kind": "article",
            "distribution": "province",
            "headline": "Tân Đồng ra quân làm sạch môi trường",
            "summary": "Tóm tắt",
            "body": rich_text("<p>Nội dung</p>"),
            "byline": byline,
            "action-submit": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return NewsItem.objects.get(headline="Tân Đồng ra quân làm sạch môi trường")
