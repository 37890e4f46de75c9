"""Intake API tokens issued, listed and revoked by a unit admin in the admin (the secret
shown once) and by ``manage.py intake_token``: one service, audited, and the intake API
obeys at once."""

import io
import json
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from wagtail.models import ModelLogEntry

from newsroom.models import IntakeToken, Role
from tests.factories import make_user

pytestmark = pytest.mark.django_db
API = "/api/v1/intake/items"
ITEM = {"headline": "Xã Tân Đồng ra quân dọn vệ sinh", "unit": "90001"}


def send(raw: str):
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}").post(
        API, data=json.dumps(ITEM), content_type="application/json"
    )


@pytest.fixture
def people(tree):
    admin = make_user("quantri_huyen", unit=tree["X"], role=Role.UNIT_ADMIN, is_staff=True)
    reporter = make_user(
        "pv_a", unit=tree["A"], role=Role.REPORTER, first_name="Phóng", last_name="Nguyễn Văn"
    )
    outsider = make_user("pv_c", unit=tree["C"], role=Role.REPORTER)
    client = Client()
    client.force_login(admin)
    return {"admin": admin, "reporter": reporter, "outsider": outsider, "client": client}


def test_a_unit_admin_issues_a_token_for_a_reporter_below_and_sees_the_secret_once(people):
    client, url = people["client"], reverse("newsroom_intake_tokens")
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and "Mã truy cập ứng dụng" in html
    assert "Nguyễn Văn Phóng (pv_a)" in html  # offered, family name first
    assert "pv_c" not in html  # commune C is not under district X

    issued = client.post(url, {"user": people["reporter"].pk, "name": "Điện thoại xã A"})
    assert "no-store" in issued["Cache-Control"]
    secret = re.search(r"data-token>([^<]+)<", issued.content.decode()).group(1)
    assert send(secret).status_code == 201  # the app can send as the reporter

    listing = client.get(url).content.decode()
    assert secret not in listing  # never shown again
    token = IntakeToken.objects.get()
    assert f"{token.prefix}…" in listing and "Điện thoại xã A" in listing
    entry = ModelLogEntry.objects.get(action="nguon.intake_token_issue")
    assert entry.user == people["admin"] and entry.data["for"] == "pv_a"

    client.post(url, {"revoke": token.pk})
    assert send(secret).status_code == 401
    assert "Đã thu hồi" in client.get(url).content.decode()
    assert ModelLogEntry.objects.filter(
        action="nguon.intake_token_revoke", user=people["admin"]
    ).exists()


def test_nobody_manages_tokens_outside_their_subtree(people, tree):
    from newsroom.intake import intake_token_issue

    client, url = people["client"], reverse("newsroom_intake_tokens")
    forged = client.post(url, {"user": people["outsider"].pk, "name": "x"})
    assert forged.status_code == 200 and not IntakeToken.objects.exists()
    theirs, raw = intake_token_issue(user=people["outsider"], name="Xã C")
    client.post(url, {"revoke": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.revoked_at is None and send(raw).status_code != 401
    # A reporter does not manage tokens at all: no menu item, no screen.
    reporter = Client()
    reporter.force_login(people["reporter"])
    refused = reporter.get(url)
    assert refused.status_code in (302, 403) and "data-token" not in refused.content.decode()
    assert "Mã truy cập ứng dụng" not in reporter.get(reverse("wagtailadmin_home")).content.decode()


def test_the_command_issues_lists_and_revokes_through_the_same_service(people):
    out = io.StringIO()
    call_command("intake_token", "issue", "pv_a", "Máy tính bảng", stdout=out)
    secret = out.getvalue().strip().splitlines()[-1]
    assert send(secret).status_code == 201
    token = IntakeToken.objects.get()
    listed = io.StringIO()
    call_command("intake_token", "list", stdout=listed)
    assert token.prefix in listed.getvalue() and secret not in listed.getvalue()
    call_command("intake_token", "revoke", token.prefix, stdout=io.StringIO())
    assert send(secret).status_code == 401
    vias = set(
        ModelLogEntry.objects.filter(action__startswith="nguon.intake_token").values_list(
            "data__via", flat=True
        )
    )
    assert vias == {"command"}
