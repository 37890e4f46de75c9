"""Portal pages. Items themselves belong to the newsroom; the portal routes to them."""

from django.core.paginator import Paginator
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.models import Page

from newsroom.selectors import item_get_published, item_list_published


class HomePage(RoutablePageMixin, Page):
    """The portal's home: the latest published items, and each item at ``tin/<uuid>/``."""

    items_per_page = 20

    parent_page_types = ["wagtailcore.Page"]
    subpage_types: list[str] = []

    @path("")
    def latest(self, request):
        paginator = Paginator(item_list_published(), self.items_per_page)
        page_obj = paginator.get_page(request.GET.get("trang"))
        return self.render(
            request,
            context_overrides={"items": page_obj.object_list, "page_obj": page_obj},
            template="cms/home_page.html",
        )

    @path("tin/<uuid:item_uuid>/")
    def item(self, request, item_uuid):
        item = item_get_published(uuid=item_uuid)
        if item is None:
            raise Http404(_("This item does not exist or is not published."))
        return self.render(
            request, context_overrides={"item": item}, template="cms/news_item_page.html"
        )

    class Meta:
        verbose_name = _("portal home page")
