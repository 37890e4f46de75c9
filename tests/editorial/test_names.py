"""One full-name rule: family name first ("Nguyễn Văn Phóng") on every screen, in emails,
in the RSS feed and the item page's JSON-LD."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from newsroom.services import item_review

from .helpers import REVERSED, RIGHT, byline_offered, created_and_submitted_in_the_editor, login

pytestmark = pytest.mark.django_db


def test_a_new_item_is_signed_by_its_reporter_family_name_first(tree, people):
    assert byline_offered(login(people["rep"])) == RIGHT


def test_wagtail_screens_and_the_audit_trail_name_people_family_name_first(tree, people, root):
    item = created_and_submitted_in_the_editor(tree, people)
    users = login(root).get(reverse("wagtailusers_users:index")).content.decode()
    assert RIGHT in users and REVERSED not in users
    audit = login(people["a"]).get(reverse("newsroom_item_audit", args=[item.pk]))
    text = audit.content.decode()
    assert RIGHT in text and REVERSED not in text
    history = login(root).get(reverse("wagtailsnippets_newsroom_newsitem:history", args=[item.pk]))
    assert RIGHT in history.content.decode()


def test_the_submission_email_names_the_reporter_family_name_first(tree, people, root, outbox):
    created_and_submitted_in_the_editor(tree, people)
    bodies = "\n".join(m.body for m in outbox)
    assert RIGHT in bodies and REVERSED not in bodies


def test_the_feed_and_the_item_page_name_the_author_family_name_first(tree, people):
    item = created_and_submitted_in_the_editor(tree, people)
    for who in ("a", "x", "p"):
        item = item_review(user=people[who], item=item, action="approve")
    assert item.live
    rss = Client().get("/feeds/rss/").content.decode()
    author = re.search(r"<author>(.*?)</author>", rss).group(1)
    assert RIGHT in author and REVERSED not in author
    page = Client().get(item.public_path).content.decode()
    ld = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1)
    )
    ld = ld if isinstance(ld, dict) else ld[0]
    assert ld["author"][0]["name"] == RIGHT
