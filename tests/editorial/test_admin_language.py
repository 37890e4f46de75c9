"""The admin speaks Vietnamese to every demo role: each page its menu reaches, and the
pages of an item (editor, history, audit trail), carry no English word."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from newsroom.models import NewsItem

from .visible_text import english_words, menu_urls, visible_text

pytestmark = pytest.mark.django_db

DEMO_LOGINS = ["admin", "phongvien", "duyet_xa", "duyet_huyen", "duyet_tinh", "laplich"]

# Proper nouns and data, not interface text.
ALLOW = {
    # Wagtail's name is the product the admin is built on, shown in its footer and titles.
    "Wagtail",
}
# Superuser-only Wagtail screens whose column labels Wagtail builds from field names
# without a translation hook (Sites: "Site name", "Root page"). Not reached by any
# provincial role.
# The page types report lists each type's identifier ("cms.homepage") beside its name.
SUPERUSER_ONLY_UNTRANSLATABLE = {"/admin/sites/", "/admin/reports/page-types-usage/"}


@pytest.fixture
def demo(db):
    call_command("load_demo", skip_national=True, stdout=open("/dev/null", "w"))


def pages_for(client) -> list[str]:
    home = client.get("/admin/").content.decode()
    urls = {"/admin/", *menu_urls(home)}
    item = NewsItem.objects.filter(live=True).order_by("pk").first()
    urls |= {
        reverse("wagtailsnippets_newsroom_newsitem:edit", args=[item.pk]),
        reverse("wagtailsnippets_newsroom_newsitem:history", args=[item.pk]),
        reverse("newsroom_item_audit", args=[item.pk]),
        reverse("wagtailsnippets_newsroom_newsitem:add"),
    }
    return sorted(urls)


def test_every_admin_page_every_demo_role_reaches_speaks_vietnamese(demo):
    english, opened = [], {}
    for login in DEMO_LOGINS:
        english += english_on_the_pages_of(login, opened)
    assert all(count >= 4 for count in opened.values()), opened
    assert english == [], "\n".join(sorted({f"{u}: {w} in {t!r}" for u, w, t in english}))


def english_on_the_pages_of(login, opened) -> list:
    client = Client()
    client.force_login(get_user_model().objects.get(username=login))
    opened[login], english = 0, []
    for url in pages_for(client):
        if url in SUPERUSER_ONLY_UNTRANSLATABLE:
            continue
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue  # not this role's page (the item views refuse other roles)
        opened[login] += 1
        english += [
            (url, word, text)
            for word, text in english_words(visible_text(response.content.decode()), ALLOW)
        ]
    return [(f"{login} {u}", w, t) for u, w, t in english]
