"""Live indexing: publication, correction, withdrawal, drafts and the approval chain reach
the index through the events and Celery tasks; a dead cluster never breaks publishing;
``search_rebuild`` and ``search_status``."""

import io
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from newsroom.models import NewsItem, Role
from newsroom.services import item_create, item_submit
from search.backends import SearchQuery, TemporarySearchError, get_backend
from search.models import SearchEntry
from search.selectors import item_search_page
from search.tasks import index_item
from tests.factories import make_tree, make_user


@pytest.fixture
def embedded(settings, db):
    settings.NGUON_SEARCH_BACKEND = "search.backends.embedded.EmbeddedBackend"
    return get_backend()


@pytest.fixture
def units(db):
    return make_tree(three_level=True)


def public_headlines(text):
    return [r.item.headline for r in item_search_page(text=text, filters={}).results]


def test_correction_replaces_the_document_and_withdrawal_removes_it(
    embedded, units, django_capture_on_commit_callbacks
):
    superuser = make_user("bientap", is_superuser=True, is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        item = NewsItem.objects.create(unit=units["A"], headline="Lịch tiêm chủng tháng 11")
        item.save_revision(user=superuser).publish(user=superuser, skip_permission_checks=True)
    item.refresh_from_db()
    assert item.version == 1
    assert public_headlines("lich tiem chung") == ["Lịch tiêm chủng tháng 11"]

    # a correction: item_published(first=False) with version 2
    with django_capture_on_commit_callbacks(execute=True):
        item.headline = "Lịch tiêm chủng tháng 12 (đính chính)"
        item.save_revision(user=superuser).publish(user=superuser, skip_permission_checks=True)
    item.refresh_from_db()
    assert item.version == 2
    assert public_headlines("dinh chinh") == ["Lịch tiêm chủng tháng 12 (đính chính)"]
    assert public_headlines("thang 11") == []

    # a withdrawal: item_withdrawn; off the public search, kept for editors as withdrawn
    with django_capture_on_commit_callbacks(execute=True):
        item.unpublish(user=superuser)
    item.refresh_from_db()
    assert item.pubstatus == "canceled"
    assert public_headlines("lich tiem chung") == []
    entry = SearchEntry.objects.get(item_id=item.pk)
    assert (entry.public, entry.status) == (False, "withdrawn")
    editor_view = item_search_page(text="lich tiem chung", filters={}, user=superuser)
    assert [r.item.pk for r in editor_view.results] == [item.pk]


def test_drafts_and_the_approval_chain_update_the_editorial_status(
    embedded, units, django_capture_on_commit_callbacks
):
    reporter = make_user("phongvien", unit=units["A"], role=Role.REPORTER)
    approver = make_user("duyet_xa", unit=units["A"], role=Role.APPROVER)
    with django_capture_on_commit_callbacks(execute=True):
        item = item_create(user=reporter, unit=units["A"], headline="Họp dân bàn làm đường")
    assert SearchEntry.objects.get(item_id=item.pk).status == "draft"
    with django_capture_on_commit_callbacks(execute=True):
        item_submit(user=reporter, item=item)
    assert SearchEntry.objects.get(item_id=item.pk).status == "in_review"
    found = item_search_page(text="hop dan", filters={"status": "in_review"}, user=approver)
    assert [r.item.pk for r in found.results] == [item.pk]
    assert public_headlines("hop dan") == []


def test_deleted_item_leaves_the_index(embedded, units, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        item = NewsItem.objects.create(unit=units["A"], headline="Tin sẽ bị xóa", live=True)
    assert SearchEntry.objects.filter(item_id=item.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        item.delete()
    assert not SearchEntry.objects.filter(item_id=item.pk).exists()


# --- an unreachable cluster ----------------------------------------------------------------


@pytest.fixture
def dead_cluster(settings, db):
    """The Elasticsearch backend pointed at a port where nothing listens (real client)."""
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9"
    settings.NGUON_SEARCH_BACKEND = "search.backends.elasticsearch.ElasticsearchBackend"
    settings.NGUON_SEARCH_INDEX = "nguon-dead"
    return get_backend()


def test_dead_cluster_never_breaks_publishing(
    dead_cluster, units, django_capture_on_commit_callbacks
):
    superuser = make_user("bientap", is_superuser=True, is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        item = NewsItem.objects.create(unit=units["A"], headline="Tin khi cụm tìm kiếm hỏng")
        item.save_revision(user=superuser).publish(user=superuser, skip_permission_checks=True)
    item.refresh_from_db()
    assert item.live and item.version == 1


def test_dead_cluster_index_task_asks_to_be_retried_with_backoff(dead_cluster, units):
    item = NewsItem.objects.create(unit=units["A"], headline="Tin", live=True)
    with pytest.raises(Retry) as retry:  # eager: the retry is raised, not scheduled
        index_item.apply(args=[item.pk])
    assert isinstance(retry.value.exc, TemporarySearchError)
    assert "unreachable" in str(retry.value.exc)
    assert index_item.retry_backoff and index_item.retry_jitter and index_item.max_retries == 8
    assert TemporarySearchError in index_item.autoretry_for


def test_dead_cluster_page_answers_503_and_healthz_reports_it(dead_cluster):
    response = Client().get(reverse("search"), {"q": "tiêm chủng"})
    assert response.status_code == 503
    assert 'role="alert"' in response.content.decode()
    stranger = Client().get("/healthz")
    assert stranger.status_code == 503
    assert stranger.json()["checks"]["search"] == {"ok": False}  # no error text for strangers
    health = staff_client().get("/healthz")
    assert health.status_code == 503
    check = health.json()["checks"]["search"]
    assert check["ok"] is False and check["ms"] < 5000 and check["error"]
    suggest = Client().get("/api/v1/search/suggest", {"q": "tiem"})
    assert suggest.status_code == 503


def test_healthz_reports_the_embedded_index(embedded):
    check = staff_client().get("/healthz").json()["checks"]["search"]
    assert check["ok"] is True and check["backend"] == "embedded" and check["documents"] == 0


def staff_client() -> Client:
    from tests.factories import make_user

    client = Client()
    client.force_login(make_user("ops_staff", is_staff=True))
    return client


# --- commands ------------------------------------------------------------------------------


def test_search_rebuild_and_status(embedded, units):
    now = timezone.now()
    for n in range(3):
        NewsItem.objects.create(
            unit=units["B"], headline=f"Tin số {n}", live=True, first_published_at=now
        )
    draft = NewsItem.objects.create(unit=units["B"], headline="Bản nháp", live=False)
    withdrawn = NewsItem.objects.create(
        unit=units["B"],
        live=False,
        headline="Đã gỡ",
        first_published_at=now - timedelta(days=1),
        withdrawn_at=now,
    )
    out = io.StringIO()
    call_command("search_status", stdout=out)
    assert "differs from the database" in out.getvalue()
    out = io.StringIO()
    err = io.StringIO()
    call_command("search_rebuild", stdout=out, stderr=err)
    assert "Rebuilt search_searchentry with 5 documents" in out.getvalue()
    assert "5/5" in err.getvalue()  # the progress bar
    statuses = dict(SearchEntry.objects.values_list("item_id", "status"))
    assert statuses[draft.pk] == "draft" and statuses[withdrawn.pk] == "withdrawn"
    out = io.StringIO()
    call_command("search_status", stdout=out)
    assert "matches the database" in out.getvalue()
    assert get_backend().search(SearchQuery(text="tin so")).total == 3
