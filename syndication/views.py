from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from newsroom.selectors import item_list_published, item_public_path

from .feeds import feed_build_rss

FEED_SIZE = 50


@require_GET
def rss(request):
    items = item_list_published()[:FEED_SIZE]
    site_url = request.build_absolute_uri("/")
    body = feed_build_rss(
        items=items,
        site_url=site_url,
        feed_url=request.build_absolute_uri(reverse("feeds:rss")),
        item_url=lambda item: request.build_absolute_uri(item_public_path(item)),
    )
    response = HttpResponse(body, content_type="application/rss+xml; charset=utf-8")
    response["Cache-Control"] = "public, max-age=60"
    return response
