from django.conf import settings
from django.conf.urls.static import static
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, include, path, re_path, resolve
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.admin.views.reports.audit_logging import LogEntriesView
from wagtail.documents import urls as wagtaildocs_urls

from newsroom.views import superuser_only
from portal import sitemaps
from search import views as search_views
from syndication import urls as syndication_urls

from .api import api
from .errors import bad_request
from .health import healthz, readyz

# Wagtail's site history lists every unit's log entries: superusers only (matched before
# the admin's own route; the report keeps its URL and name there).
_site_history = superuser_only(LogEntriesView.as_view())
_site_history_results = superuser_only(LogEntriesView.as_view(results_only=True))

handler400 = bad_request


@csrf_exempt
def api_not_found(request, rest=""):
    """Anything under /api/v1/ that no endpoint matches (an id too long to be a number, a
    typo) is a JSON 404, not a redirect to the portal's page tree; a GET missing only its
    trailing slash is still redirected to the API address that has one."""
    if request.method in ("GET", "HEAD") and not request.path_info.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.namespace == "api-v1":
            target = request.path + "/"
            if request.META.get("QUERY_STRING"):
                target += "?" + request.META["QUERY_STRING"]
            return HttpResponsePermanentRedirect(target)
    return JsonResponse({"error": _("Not found."), "field": None}, status=404)


urlpatterns = [
    path("admin/reports/site-history/", _site_history),
    path("admin/reports/site-history/results/", _site_history_results),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("search/", search_views.search, name="search"),
    path("feeds/", include(syndication_urls)),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<rest>.*)$", api_not_found),
    path("sitemap.xml", sitemaps.sitemap_index, name="sitemap"),
    path("sitemap-news.xml", sitemaps.news_sitemap, name="sitemap-news"),
    path("sitemap-<slug:section>.xml", sitemaps.sitemap_section, name=sitemaps.SECTION_URL_NAME),
]

if settings.DEBUG or settings.NGUON_SERVE_MEDIA:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [path("", include(wagtail_urls))]
