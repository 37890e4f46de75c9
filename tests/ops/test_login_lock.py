"""The login lock counts a name in the form Django signs in with, and cannot be turned
against a user or an office: a fullwidth or upper-case spelling is the same name, a browser
that signed in before keeps working while strangers are locked, an office behind one
address is not locked by a few typos, and every lock ends with its window."""

import time

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from tests.factories import make_user

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/"
RIGHT = "x"  # make_user's password


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def attempt(client: Client, username: str, password: str | None = None) -> int:
    data = {"username": username, "password": password or "sai-mat-khau"}
    return client.post(LOGIN, data).status_code


@override_settings(NGUON_LOGIN_MAX_FAILURES=3, NGUON_LOGIN_WINDOW_SECONDS=60)
@pytest.mark.parametrize("spelling", ["ｄx_minhhung", "DX_MINHHUNG", "Dx_MinhHung "])
def test_a_fullwidth_or_other_case_spelling_counts_against_the_same_name(spelling):
    make_user("dx_minhhung", is_staff=True)
    client = Client(REMOTE_ADDR="203.0.113.5")
    assert [attempt(client, "dx_minhhung") for _ in range(3)] == [200, 200, 200]
    other_address = Client(REMOTE_ADDR="198.51.100.7")
    assert attempt(other_address, spelling) == 429


@override_settings(NGUON_LOGIN_MAX_FAILURES=3, NGUON_LOGIN_WINDOW_SECONDS=60)
def test_a_stranger_cannot_lock_a_user_out_of_the_browser_they_use():
    make_user("duyet_xa", is_staff=True)
    own_browser = Client(REMOTE_ADDR="10.8.0.2")
    assert attempt(own_browser, "duyet_xa", RIGHT) == 302
    own_browser.post("/admin/logout/")

    stranger = Client(REMOTE_ADDR="203.0.113.66")
    assert [attempt(stranger, "duyet_xa") for _ in range(4)] == [200, 200, 200, 429]
    assert attempt(Client(REMOTE_ADDR="10.8.0.3"), "duyet_xa", RIGHT) == 429  # new

    assert attempt(own_browser, "duyet_xa", RIGHT) == 302  # still signs in
    # The own browser still has a limit of its own for that name.
    own_browser.post("/admin/logout/")
    assert [attempt(own_browser, "duyet_xa") for _ in range(4)] == [200, 200, 200, 429]


@override_settings(NGUON_LOGIN_MAX_FAILURES=3, NGUON_LOGIN_WINDOW_SECONDS=60)
def test_an_office_behind_one_address_is_not_locked_by_a_few_typos():
    office = "100.64.10.1"
    for n in range(7):  # 7 colleagues mistype twice each: 14 failures from one address
        make_user(f"canbo{n}", is_staff=True)
        client = Client(REMOTE_ADDR=office)
        assert [attempt(client, f"canbo{n}") for _ in range(2)] == [200, 200]
    late = make_user("canbo_moi", is_staff=True)
    assert attempt(Client(REMOTE_ADDR=office), late.username, RIGHT) == 302
    # A sprayer at that address is stopped at five times the per-name limit.
    sprayer = Client(REMOTE_ADDR=office)
    assert attempt(sprayer, "ai_do") == 200  # the 15th failure of the address
    assert attempt(sprayer, "ai_khac") == 429


@override_settings(NGUON_LOGIN_MAX_FAILURES=2, NGUON_LOGIN_WINDOW_SECONDS=2)
def test_a_lock_ends_with_its_window():
    make_user("phongvien", is_staff=True)
    client = Client(REMOTE_ADDR="203.0.113.9")
    assert [attempt(client, "phongvien") for _ in range(3)] == [200, 200, 429]
    time.sleep(2.2)
    assert attempt(client, "phongvien", RIGHT) == 302
