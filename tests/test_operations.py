"""Set-up contracts: units import, idempotent demo data, health, production settings."""

import os
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from wagtail.images import get_image_model

from broadcast.models import Device
from media.models import MediaAsset
from newsroom.models import AdministrativeUnit, Membership, NewsItem

pytestmark = pytest.mark.django_db

GOOD_KEY = "q7Jx-2mR9vLk_T4pWz8bN3cYhF6sD1aGeU5oKi0-Zr8tQw2Ea6Yu1Io4PpXc"
SAFE_ENV = {"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "tin.example.vn"}


def counts():
    return {
        "units": AdministrativeUnit.objects.count(),
        "users": get_user_model().objects.count(),
        "memberships": Membership.objects.count(),
        "items": NewsItem.objects.count(),
        "assets": MediaAsset.objects.count(),
        "devices": Device.objects.count(),
        "images": get_image_model().objects.count(),
    }


def test_import_units_loads_34_provinces_and_3321_communes_and_is_idempotent():
    call_command("import_units", no_progress=True)
    T = AdministrativeUnit.Type
    assert AdministrativeUnit.objects.filter(unit_type=T.PROVINCE, depth=1).count() == 34
    assert AdministrativeUnit.objects.filter(unit_type=T.COMMUNE).count() == 3321
    hanoi = AdministrativeUnit.objects.get(code="01")
    assert hanoi.name == "Thành phố Hà Nội"
    ba_dinh = AdministrativeUnit.objects.get(code="00004")
    assert ba_dinh.name == "Phường Ba Đình" and ba_dinh.get_parent() == hanoi
    assert AdministrativeUnit.find_problems() == ([], [], [], [], [])
    call_command("import_units", no_progress=True)
    assert AdministrativeUnit.objects.count() == 34 + 3321


def test_demo_data_builds_a_three_level_province_and_running_it_twice_changes_nothing():
    call_command("load_demo", skip_national=True)
    first = counts()
    commune = AdministrativeUnit.objects.get(code="25198")
    assert [u.unit_type for u in commune.ancestors_and_self()] == [
        "province",
        "district",
        "commune",
    ]
    assert NewsItem.objects.filter(live=True).count() == 5
    call_command("load_demo", skip_national=True)
    assert counts() == first


def test_the_demo_home_page_leads_with_a_picture_and_an_article_has_a_gallery(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # this test's files only
    call_command("load_demo", skip_national=True)
    client = Client()
    home = client.get("/").content.decode()
    lead = home.split('<article class="lead-story"')[1].split("</article>")[0]
    assert "Mùa điều bội thu, giá thu mua ổn định" in lead
    assert 'alt="Vườn điều xanh tốt trên đồi đất đỏ vào mùa thu hoạch"' in lead
    assert '<source type="image/webp"' in lead
    item = NewsItem.objects.get(headline="Mùa điều bội thu, giá thu mua ổn định")
    page = client.get(item.public_path).content.decode()
    assert page.count("<figure") == 3 and "Thương lái đến tận vườn thu mua" in page
    assert "Ảnh: Phạm Minh Đức" in page


def test_the_demo_loudspeaker_plays_the_daily_bulletin_at_six_and_seventeen(
    django_capture_on_commit_callbacks, settings, tmp_path
):
    from media.processing import asset_process
    from newsroom.demo import DEMO_DEVICE_TOKEN

    settings.MEDIA_ROOT = tmp_path / "media"  # this test's files only
    settings.NGUON_MEDIA_WORK_DIR = str(tmp_path / "media-work")
    call_command("load_demo", skip_national=True)
    call_command("load_demo", skip_national=True)  # idempotent: still one programme
    device = Device.objects.get(serial="DEMO-TD-0001")
    timeline = f"/api/v1/devices/{device.pk}/timeline"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {DEMO_DEVICE_TOKEN}"}
    client = Client()

    # Until the worker has made the loudspeaker MP3 there is nothing the device could play.
    before = client.get(timeline, **auth)
    assert before.status_code == 200 and before.json()["entries"] == []
    (asset,) = MediaAsset.objects.all()
    with django_capture_on_commit_callbacks(execute=True):  # as if committed
        asset_process(asset_id=asset.pk)  # what the worker does after the upload
    assert asset.rendition("loudspeaker") is not None

    # The device polling with its old ETag is told the timeline changed.
    response = client.get(timeline, HTTP_IF_NONE_MATCH=before["ETag"], **auth)
    assert response.status_code == 200
    entries = response.json()["entries"]
    # Two slots a day over the 48-hour window: four plays, each the demo audio bulletin.
    assert len(entries) == 4
    assert {e["start"][11:16] for e in entries} == {"06:00", "17:00"}
    for entry in entries:
        (part,) = entry["parts"]
        assert part["type"] == "audio"
        assert part["headline"] == "Đồng Xoài triển khai tiêm chủng mở rộng cho trẻ em"


def test_healthz_reports_database_queue_and_search():
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "queue", "search"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.parametrize(
    "env, message",
    [
        ({"SECRET_KEY": "", "ALLOWED_HOSTS": "example.vn"}, "SECRET_KEY"),
        (
            {"SECRET_KEY": "dev-insecure-nguon-secret-key-change-me", "ALLOWED_HOSTS": "x.vn"},
            "SECRET_KEY",
        ),
        ({"SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "x.vn"}, "SECRET_KEY"),
        ({**SAFE_ENV, "DEBUG": "1"}, "DEBUG"),
        ({"SECRET_KEY": GOOD_KEY}, "ALLOWED_HOSTS"),
        ({**SAFE_ENV, "ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
        ({**SAFE_ENV, "SESSION_COOKIE_SECURE": "0"}, "SESSION_COOKIE_SECURE"),
        ({**SAFE_ENV, "CSRF_COOKIE_SECURE": "false"}, "CSRF_COOKIE_SECURE"),
        ({**SAFE_ENV, "SECURE_HSTS_SECONDS": "0"}, "SECURE_HSTS_SECONDS"),
        ({**SAFE_ENV, "SESSION_COOKIE_AGE": str(7 * 86400)}, "SESSION_COOKIE_AGE"),
        ({**SAFE_ENV, "NGUON_PASSWORD_MIN_LENGTH": "6"}, "NGUON_PASSWORD_MIN_LENGTH"),
        ({**SAFE_ENV, "NGUON_LOGIN_MAX_FAILURES": "0"}, "NGUON_LOGIN_MAX_FAILURES"),
    ],
)
def test_production_settings_refuse_unsafe_values(env, message):
    unsafe = {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"} | set(env)
    clean = {k: v for k, v in os.environ.items() if k not in unsafe}
    clean.update(env, DJANGO_SETTINGS_MODULE="cms.settings.production")
    proc = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert message in proc.stderr


def test_production_settings_start_with_safe_values():
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env.update(SAFE_ENV, DJANGO_SETTINGS_MODULE="cms.settings.production")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings;"
            " print(settings.DEBUG, settings.SESSION_COOKIE_SECURE)",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True"]


def test_production_settings_pass_django_deploy_checks_and_secure_the_site():
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env.update(SAFE_ENV, DJANGO_SETTINGS_MODULE="cms.settings.production")
    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    script = (
        "import django; django.setup(); from django.conf import settings as s;"
        "from django.contrib.auth.password_validation import validate_password as v;"
        "print(s.SECURE_HSTS_SECONDS >= 31536000, s.SESSION_COOKIE_HTTPONLY,"
        " s.SESSION_COOKIE_AGE <= 8 * 3600, s.SECURE_SSL_REDIRECT,"
        " \"script-src 'self'\" in s.NGUON_CSP, s.NGUON_LOGIN_MAX_FAILURES > 0);"
        "\ntry:\n    v('tiemchung1')\nexcept Exception as e:\n    print('refused', len(e.messages))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["True"] * 6
    assert lines[1].startswith("refused")  # a 10-character password is too short


def test_portal_and_admin_speak_vietnamese():
    client = Client()
    assert 'lang="vi"' in client.get("/").content.decode()
    login = client.get("/admin/login/").content.decode()
    assert "Đăng nhập" in login
