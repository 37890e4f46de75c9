"""What a reader notices on ``/search/?q=``: folding, ranking, publication state, odd input.

``SearchBehaviour`` holds the cases and is backend-neutral: ``TestEmbeddedSearch`` below runs
them on the embedded backend, ``tests/search/test_elasticsearch_live.py`` runs the very same
cases on a real Elasticsearch cluster. Ranking cases make the item that should come *second*
the newer one, so recency (the tie-break) cannot make them pass by accident.
"""

import html
import re
import unicodedata
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from newsroom.models import NewsItem, Role
from newsroom.services import item_create, item_review, item_submit
from search.backends import SearchQuery, get_backend
from search.services import item_index
from tests.factories import make_tree, make_user

CARD_HEADLINE = re.compile(
    r'<article class="card[^"]*">\s*<h2><a href="[^"]*">(.*?)</a></h2>', re.S
)
TAG = re.compile(r"<[^>]+>")


def search_page(q: str):
    return Client().get(reverse("search"), {"q": q})


def found(q: str) -> list[str]:
    """Headlines of the result cards, in the order the reader sees them."""
    response = search_page(q)
    assert response.status_code == 200
    return [html.unescape(TAG.sub("", h)) for h in CARD_HEADLINE.findall(response.content.decode())]


class SearchBehaviour:
    """Backend-neutral cases; a subclass provides the ``search_backend`` fixture."""

    @pytest.fixture(autouse=True)
    def _setup(self, search_backend, db):
        self.units = make_tree(three_level=True)
        self._age = 0

    def publish(
        self,
        headline: str,
        *,
        body: str = "",
        summary: str = "",
        unit=None,
        minutes_ago: int | None = None,
        distribution: str = NewsItem.Distribution.PROVINCE,
    ) -> NewsItem:
        """A live item row, indexed as the task would index it. Each call is newer than
        the previous one unless ``minutes_ago`` says otherwise."""
        if minutes_ago is None:
            self._age += 1
            minutes_ago = 1000 - self._age
        item = NewsItem.objects.create(
            unit=unit or self.units["A"],
            headline=headline,
            summary=summary,
            body=body,
            distribution=distribution,
            live=True,
            first_published_at=timezone.now() - timedelta(minutes=minutes_ago),
        )
        item_index(item_id=item.pk)
        return item

    # --- folding ----------------------------------------------------------------------

    def test_words_typed_without_diacritics_find_accented_text(self):
        self.publish("Đồng Xoài triển khai tiêm chủng mở rộng cho trẻ em")
        self.publish("Nông dân chung tay làm đường giao thông")  # has "chung" but no "tiem"
        assert found("tiem chung") == ["Đồng Xoài triển khai tiêm chủng mở rộng cho trẻ em"]

    @pytest.mark.parametrize(
        "q",
        [
            "dong xoai",
            "DONG XOAI",
            "Đồng Xoài",
            "đồng xoài",
            "ĐỒNG XOÀI",
            unicodedata.normalize("NFD", "Đồng Xoài"),  # decomposed, as some keyboards send
        ],
    )
    def test_any_spelling_of_dong_xoai_finds_it(self, q):
        self.publish("Đồng Xoài khánh thành cầu mới", body="<p>Cây cầu nối hai phường.</p>")
        self.publish("Bù Đăng tổ chức lễ hội")
        assert found(q) == ["Đồng Xoài khánh thành cầu mới"]

    def test_accented_text_stored_decomposed_is_found(self):
        self.publish(unicodedata.normalize("NFD", "Tiêm chủng tại Đồng Xoài"))
        assert len(found("tiêm chủng")) == 1
        assert len(found("dong xoai")) == 1

    def test_every_word_must_occur_somewhere_in_the_item(self):
        self.publish("Tiêm chủng cho trẻ", body="<p>Tại trạm y tế phường Tân Đồng.</p>")
        self.publish("Tiêm chủng cho người già")
        assert found("tiem chung tan dong") == ["Tiêm chủng cho trẻ"]
        assert found("tiêm chủng mèo") == []

    def test_whole_words_except_the_last_word_still_being_typed(self):
        self.publish("Thông báo lịch cắt điện")
        assert found("thong") == ["Thông báo lịch cắt điện"]
        assert found("thon") == ["Thông báo lịch cắt điện"]  # the last word: a prefix
        assert found("thon ") == []  # a space typed after it: a whole word
        assert found("thon bao") == []  # not the last word: a whole word
        assert found("thông b") == []  # one letter is not a prefix (see MIN_PREFIX_CHARS)

    # --- ranking ----------------------------------------------------------------------

    def test_headline_match_ranks_above_body_only_match(self):
        self.publish("Tiêm chủng mở rộng đợt tháng 11", body="<p>Trẻ dưới 5 tuổi.</p>")
        self.publish(
            "Bản tin sáng thứ hai",
            body="<p>Trạm y tế nhắc phụ huynh đưa trẻ đi tiêm chủng đúng lịch.</p>",
        )
        expected = ["Tiêm chủng mở rộng đợt tháng 11", "Bản tin sáng thứ hai"]
        assert found("tiêm chủng") == expected
        assert found("tiem chung") == expected

    def test_adjacent_phrase_ranks_above_scattered_words(self):
        self.publish("Bản tin y tế", body="<p>Xã tổ chức đợt tiêm chủng cho trẻ em.</p>")
        self.publish(
            "Bản tin nông nghiệp",
            body="<p>Cán bộ thú y đi tiêm phòng cho đàn bò của các hộ chăn nuôi. "
            "Vụ mùa này xã cũng đưa vào gieo cấy một chủng lúa mới chịu hạn.</p>",
        )
        expected = ["Bản tin y tế", "Bản tin nông nghiệp"]
        assert found("tiêm chủng") == expected
        assert found("tiem chung") == expected

    def test_exact_diacritics_rank_above_folded_only_match(self):
        # "bão" (storm) and "báo" (newspaper, to report) fold to the same "bao".
        self.publish("Chủ động ứng phó bão số 3")
        self.publish("Tỉnh họp báo về mùa khô")
        assert found("bão") == ["Chủ động ứng phó bão số 3", "Tỉnh họp báo về mùa khô"]
        assert found("báo") == ["Tỉnh họp báo về mùa khô", "Chủ động ứng phó bão số 3"]

    def test_exact_diacritics_count_whole_words_only(self):
        # "ông" (Mr) is inside "không" (not); "ống" (pipe) folds to the same "ong".
        self.publish("Ông Nguyễn Văn Sáu nhận bằng khen")
        self.publish("Sửa ống nước không mất tiền")
        assert found("ông") == ["Ông Nguyễn Văn Sáu nhận bằng khen", "Sửa ống nước không mất tiền"]

    def test_query_without_diacritics_prefers_neither_spelling(self):
        # Typing "bao" says nothing about which word is meant: the newer item comes first.
        self.publish("Chủ động ứng phó bão số 3")
        self.publish("Tỉnh họp báo về mùa khô")
        assert found("bao") == ["Tỉnh họp báo về mùa khô", "Chủ động ứng phó bão số 3"]

    def test_equal_matches_list_newest_first(self):
        self.publish("Thông báo cắt điện khu phố 1")
        self.publish("Thông báo cắt điện khu phố 2")
        assert found("cắt điện") == ["Thông báo cắt điện khu phố 2", "Thông báo cắt điện khu phố 1"]

    # --- publication state ------------------------------------------------------------

    def test_unpublished_items_are_not_found(self):
        draft = NewsItem.objects.create(
            unit=self.units["A"], headline="Dự thảo kế hoạch tiêm chủng", live=False
        )
        item_index(item_id=draft.pk)
        self.publish("Kế hoạch tiêm chủng đã duyệt")
        assert found("kế hoạch tiêm chủng") == ["Kế hoạch tiêm chủng đã duyệt"]

    def test_a_commune_loudspeakers_only_item_is_never_found_nor_counted_nor_suggested(self):
        """Approved for one commune's loudspeakers, not for the web: its page is a 404, so
        public search, its facets and the suggestions must not name it either."""
        self.publish("Loa xã: lịch tiêm chủng thôn 3", distribution=NewsItem.Distribution.COMMUNE)
        self.publish("Tỉnh: lịch tiêm chủng mùa đông")
        assert found("tiem chung") == ["Tỉnh: lịch tiêm chủng mùa đông"]
        page = search_page("tiem chung").content.decode()
        assert "thôn 3" not in page and "Loa xã" not in page
        assert get_backend().search(SearchQuery(text="tiem chung")).total == 1
        facets = get_backend().search(SearchQuery(text="tiem chung", facets=True)).facets
        assert sum(value.count for value in facets.get("kind", [])) == 1
        for prefix in ("loa xa", "loa", "Loa xã"):
            suggest = Client().get("/api/v1/search/suggest", {"q": prefix})
            assert suggest.status_code == 200 and suggest.json()["suggestions"] == []

    def test_published_through_the_chain_then_withdrawn(self, django_capture_on_commit_callbacks):
        reporter = make_user("phongvien", unit=self.units["A"], role=Role.REPORTER)
        approvers = [
            make_user("duyet_xa", unit=self.units["A"], role=Role.APPROVER),
            make_user("duyet_huyen", unit=self.units["X"], role=Role.APPROVER),
            make_user("duyet_tinh", unit=self.units["P"], role=Role.APPROVER),
        ]
        with django_capture_on_commit_callbacks(execute=True):
            item = item_create(
                user=reporter,
                unit=self.units["A"],
                headline="Đồng Xoài triển khai tiêm chủng mở rộng",
                body="<p>Trạm y tế xã Tân Đồng tổ chức tiêm chủng.</p>",
            )
            item_submit(user=reporter, item=item)
        assert found("tiem chung") == []  # awaiting approval
        with django_capture_on_commit_callbacks(execute=True):
            for approver in approvers[:2]:
                item = item_review(user=approver, item=item, action="approve")
        assert found("tiem chung") == []  # the province has not approved yet
        with django_capture_on_commit_callbacks(execute=True):
            item = item_review(user=approvers[2], item=item, action="approve")
        assert item.live
        assert found("tiem chung") == ["Đồng Xoài triển khai tiêm chủng mở rộng"]

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            item.unpublish()
        assert callbacks, "withdrawal announced no event"
        assert found("tiem chung") == []
        assert get_backend().search(SearchQuery(text="tiem chung")).total == 0

    def test_deleted_item_leaves_the_index(self, django_capture_on_commit_callbacks):
        item = self.publish("Lịch tiếp công dân tháng 12")
        with django_capture_on_commit_callbacks(execute=True):
            item.delete()
        assert get_backend().search(SearchQuery(text="tiep cong dan", public_only=False)).total == 0

    # --- scope (what staff search and unit pages ask the backend) ---------------------

    def test_unit_scope_restricts_to_subtrees(self):
        in_x = self.publish("Tiêm chủng ở xã Tân Bình", unit=self.units["B"])
        in_y = self.publish("Tiêm chủng ở xã Minh Hưng", unit=self.units["C"])
        backend = get_backend()

        def ids(paths):
            result = backend.search(SearchQuery(text="tiem chung", unit_paths=paths))
            return {hit.item_id for hit in result.hits}

        assert ids([self.units["X"].path]) == {in_x.pk}
        assert ids([self.units["Y"].path]) == {in_y.pk}
        assert ids([self.units["X"].path, self.units["Y"].path]) == {in_x.pk, in_y.pk}
        assert ids([]) == set()
        assert ids(None) == {in_x.pk, in_y.pk}

    def test_paging_and_total(self):
        for n in range(5):
            self.publish(f"Thông báo số {n}")
        backend = get_backend()
        first = backend.search(SearchQuery(text="thong bao", limit=2))
        second = backend.search(SearchQuery(text="thong bao", limit=2, offset=2))
        third = backend.search(SearchQuery(text="thong bao", limit=2, offset=4))
        assert first.total == second.total == third.total == 5
        seen = [h.item_id for r in (first, second, third) for h in r.hits]
        assert len(seen) == len(set(seen)) == 5

    def test_staff_search_sees_unpublished(self):
        draft = NewsItem.objects.create(
            unit=self.units["A"], headline="Bản nháp tiêm chủng", live=False
        )
        item_index(item_id=draft.pk)
        backend = get_backend()
        assert backend.search(SearchQuery(text="tiem chung")).total == 0
        assert backend.search(SearchQuery(text="tiem chung", public_only=False)).total == 1

    # --- odd input --------------------------------------------------------------------

    @pytest.mark.parametrize(
        "q",
        [
            "",
            "   ",
            "a" * 250,
            "tiêm " * 60,
            " ".join(f"từ{n}" for n in range(150)),
            "!!! ??? ... — – “” «»",
            "%",
            "_",
            "%_%",
            "\\",
            "'; DROP TABLE search_searchentry; --",
            "tiêm\x00chủng",
            '( ) [ ] { } : ^ ~ * " / AND OR NOT',
        ],
    )
    def test_odd_queries_answer_200(self, q):
        self.publish("Tiêm chủng mở rộng")
        response = search_page(q)
        assert response.status_code == 200

    def test_punctuation_only_query_lists_nothing(self):
        self.publish("Tiêm chủng mở rộng")
        assert found("!!! ... ???") == []
        assert found("%") == []
        assert found("_") == []

    def test_long_query_is_cut_not_refused(self):
        self.publish("Tiêm chủng mở rộng")
        assert found("tiêm chủng" + " " * 300 + "zzz") == ["Tiêm chủng mở rộng"]
        assert search_page("tiêm chủng " + "x" * 300).status_code == 200

    # --- markup -----------------------------------------------------------------------

    def test_markup_in_body_is_not_searchable_but_its_text_is(self):
        self.publish(
            "Thông báo của phường",
            body="<p>Người dân&nbsp;<b>Đồng</b> Xoài</p><p>tiêm chủng &amp; khám bệnh</p>"
            '<p><a href="https://example.org/tai-lieu" class="external">Tài liệu</a></p>'
            "<script>alert('xss')</script><style>p { color: red }</style>",
        )
        headline = ["Thông báo của phường"]
        assert found("dong xoai") == headline
        assert found("xoai tiem chung") == headline  # paragraphs do not glue words together
        assert found("tài liệu") == headline
        for markup in ["nbsp", "amp", "href", "example", "external", "script", "alert", "red"]:
            assert found(markup) == [], markup

    def test_script_in_query_is_shown_escaped(self):
        self.publish("Tiêm chủng mở rộng")
        response = search_page('<script>alert("x")</script> tiêm')
        content = response.content.decode()
        assert response.status_code == 200
        assert "<script>alert" not in content
        assert "&lt;script&gt;alert" in content


class TestEmbeddedSearch(SearchBehaviour):
    @pytest.fixture
    def search_backend(self, settings):
        settings.NGUON_SEARCH_BACKEND = "search.backends.embedded.EmbeddedBackend"
        return get_backend()
