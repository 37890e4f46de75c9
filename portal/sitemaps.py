"""``/sitemap.xml`` (an index of the home page, items, units and categories) and the Google
News sitemap ``/sitemap-news.xml`` (items first published in the last two days).

The item sitemap lists what the portal serves (``portal.selectors.portal_item_base``); a
withdrawn item leaves it with the next request.
"""

from datetime import timedelta
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import Max
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from newsroom.models import AdministrativeUnit, Category

from . import selectors
from .views import CATEGORY_PATH, UNIT_PATH, max_age

NEWS_SITEMAP_DAYS = 2
NEWS_SITEMAP_LIMIT = 1000  # Google News reads at most 1,000 URLs per news sitemap


class HomeSitemap(Sitemap):
    changefreq = "hourly"
    priority = 1.0

    def items(self):
        return ["/"]

    def location(self, obj):
        return obj


class ItemSitemap(Sitemap):
    """Rows are ``(uuid, last change)`` tuples, not model instances: ten times cheaper for
    10,000 URLs a page."""

    changefreq = "daily"
    limit = 10_000

    def items(self):
        return (
            selectors.portal_item_base()
            .order_by("-first_published_at", "-pk")
            .values_list(
                "uuid",
                Coalesce("version_created_at", "last_published_at", "first_published_at"),
            )
        )

    def __init__(self):
        self.item_path = settings.NGUON_ITEM_PATH  # read once: 10,000 lookups add up

    def location(self, row):
        return self.item_path.format(uuid=row[0])

    def lastmod(self, row):
        return row[1]

    def get_latest_lastmod(self):
        # Django's default walks every item for the index; one aggregate does the same.
        latest = selectors.portal_item_base().aggregate(
            latest=Max(Coalesce("version_created_at", "last_published_at", "first_published_at"))
        )["latest"]
        return latest


class UnitSitemap(Sitemap):
    changefreq = "daily"
    limit = 10_000

    def items(self):
        return AdministrativeUnit.objects.filter(is_active=True).order_by("path").only("code")

    def location(self, unit):
        return UNIT_PATH.format(code=unit.code)


class CategorySitemap(Sitemap):
    changefreq = "hourly"

    def items(self):
        return Category.objects.order_by("sort_order", "name").only("slug")

    def location(self, category):
        return CATEGORY_PATH.format(slug=category.slug)


SITEMAPS = {
    "home": HomeSitemap,
    "items": ItemSitemap,
    "units": UnitSitemap,
    "categories": CategorySitemap,
}
SECTION_URL_NAME = "sitemap-section"


@require_safe
def sitemap_index(request):
    response = sitemap_views.index(request, SITEMAPS, sitemap_url_name=SECTION_URL_NAME)
    patch_cache_control(response, public=True, max_age=max_age())
    return response


@require_safe
def sitemap_section(request, section):
    """One section (``?p=`` pages of up to ``limit`` URLs), written without the template
    engine: Django's sitemap template takes seconds for 10,000 URLs, this takes tens of ms."""
    if section not in SITEMAPS:
        raise Http404(_("No sitemap section named %(section)s.") % {"section": section})
    sitemap = SITEMAPS[section]()
    try:
        page = sitemap.paginator.page(int(request.GET.get("p", "1")))
    except (ValueError, EmptyPage, PageNotAnInteger) as exc:
        raise Http404(_("This sitemap page does not exist.")) from exc
    base = f"{request.scheme}://{request.get_host()}"
    has_lastmod = hasattr(sitemap, "lastmod")
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    ]
    latest = None
    tz = timezone.get_current_timezone()
    for obj in page.object_list:
        parts.append(f"<url><loc>{escape(base + sitemap.location(obj))}</loc>")
        if has_lastmod:
            lastmod = sitemap.lastmod(obj)
            if lastmod is not None:
                latest = max(latest, lastmod) if latest else lastmod
                parts.append(f"<lastmod>{lastmod.astimezone(tz).isoformat()}</lastmod>")
        if sitemap.changefreq:
            parts.append(f"<changefreq>{sitemap.changefreq}</changefreq>")
        parts.append("</url>\n")
    parts.append("</urlset>\n")
    response = HttpResponse("".join(parts), content_type="application/xml; charset=utf-8")
    if latest is not None:
        response["Last-Modified"] = http_date(latest.timestamp())
    patch_cache_control(response, public=True, max_age=max_age())
    return response


@require_safe
def news_sitemap(request):
    """Google News sitemap: the portal's items of the last two days, newest first."""
    since = timezone.now() - timedelta(days=NEWS_SITEMAP_DAYS)
    items = list(selectors.portal_news_sitemap_items(since=since)[:NEWS_SITEMAP_LIMIT])
    entries = [
        {
            "loc": request.build_absolute_uri(item.public_path),
            "date": timezone.localtime(item.first_published_at).isoformat(timespec="seconds"),
            "title": item.headline,
        }
        for item in items
    ]
    response = render(
        request,
        "portal/sitemap_news.xml",
        {"entries": entries, "publication": settings.WAGTAIL_SITE_NAME},
        content_type="application/xml; charset=utf-8",
    )
    patch_cache_control(response, public=True, max_age=max_age())
    return response
