"""Portal pages. Items themselves belong to the newsroom; the portal routes to them.

One Wagtail page (``HomePage``) serves the whole portal through routes; the views live in
``portal.views`` and read through ``portal.selectors``:

- ``/``                         latest items, the editors' featured items, one section per category
- ``/tin/<uuid>/``              an item (404 unknown, 410 withdrawn)
- ``/don-vi/``                  the units, province by province
- ``/don-vi/<official code>/``  a unit and its subtree's items
- ``/chuyen-muc/<slug>/``       a category's items

Every listing paginates with ``?trang=<n>``.

The tables keep the names they had when these models lived in ``cms``
(``portal.0001_initial`` moved them in the migration state only, without copying a row).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, InlinePanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.models import Orderable, Page

from . import views


class HomePage(RoutablePageMixin, Page):
    """The portal's home and, through its routes, every other portal page."""

    items_per_page = 20
    featured_limit = 4
    items_per_category = 3

    content_panels = Page.content_panels + [
        InlinePanel(
            "featured_items",
            label=_("Featured items"),
            heading=_("Featured items"),
            help_text=_(
                "Published items shown at the top of the home page, in this order. "
                "Withdrawn items disappear from the list on their own."
            ),
            max_num=12,
        ),
    ]

    parent_page_types = ["wagtailcore.Page"]
    subpage_types: list[str] = []

    @path("")
    def latest(self, request):
        return views.home_view(self, request)

    @path("tin/<uuid:item_uuid>/")
    def item(self, request, item_uuid):
        return views.item_view(self, request, item_uuid)

    @path("don-vi/")
    def units(self, request):
        return views.unit_index_view(self, request)

    @path("don-vi/<str:code>/")
    def unit(self, request, code):
        return views.unit_view(self, request, code)

    @path("chuyen-muc/<str:slug>/")
    def category(self, request, slug):
        return views.category_view(self, request, slug)

    class Meta:
        db_table = "cms_homepage"
        verbose_name = _("portal home page")


class HomePageFeaturedItem(Orderable):
    """An item an editor features on the home page (no field is added to the item)."""

    page = ParentalKey(HomePage, on_delete=models.CASCADE, related_name="featured_items")
    item = models.ForeignKey(
        "newsroom.NewsItem",
        verbose_name=_("item"),
        on_delete=models.CASCADE,
        related_name="portal_featured",
    )

    panels = [FieldPanel("item")]

    def __str__(self) -> str:
        return str(self.item)

    class Meta(Orderable.Meta):
        db_table = "cms_homepagefeatureditem"
        verbose_name = _("featured item")
        verbose_name_plural = _("featured items")
        constraints = [
            models.UniqueConstraint(fields=["page", "item"], name="unique_featured_item")
        ]
