"""Reads for the portal: which items a reader may see, and what each listing shows.

Every listing returns querysets with what the templates use prefetched (unit, category,
image with the portal's image renditions, media assets with their renditions), so a page
issues the same number of queries whatever the number of items it lists.

What the portal shows: live items that are not withdrawn and whose distribution scope
reaches a web page. "Commune loudspeakers only" items were approved for loudspeakers
only and never reach the portal; "district" items appear on the pages of that district's
subtree (district and commune pages) and their own item page; "province" and "national"
items appear everywhere (home, categories, every unit page up the tree).
"""

from __future__ import annotations

from collections import OrderedDict

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from wagtail.images import get_image_model

from media.models import Rendition as MediaRendition
from newsroom.audience import PROVINCE_DISTRIBUTIONS, item_list_public
from newsroom.models import AdministrativeUnit, Category, NewsItem
from newsroom.pictures import Picture, item_pictures

from .collation import units_sorted
from .pictures import body_image_ids, rendition_specs

D = NewsItem.Distribution
T = AdministrativeUnit.Type

# Image renditions the portal templates ask for (prefetched, so listings stay constant).
LISTING_SPECS = rendition_specs(cards=True)
ITEM_SPECS = rendition_specs(figures=True, share=True)

# How many of the newest items the home page's category sections are chosen from.
SECTION_WINDOW = 500


def _image_renditions(specs: tuple[str, ...]) -> QuerySet:
    return get_image_model().get_rendition_model().objects.filter(filter_spec__in=specs)


def _with_related(
    qs: QuerySet[NewsItem], specs: tuple[str, ...] = LISTING_SPECS
) -> QuerySet[NewsItem]:
    image_renditions = _image_renditions(specs)
    ready = MediaRendition.objects.filter(status=MediaRendition.Status.READY)
    return qs.select_related("unit", "category", "image", "audio", "video").prefetch_related(
        Prefetch("image__renditions", queryset=image_renditions),
        Prefetch("audio__renditions", queryset=ready),
        Prefetch("video__renditions", queryset=ready),
    )


def portal_item_base() -> QuerySet[NewsItem]:
    """Every item a reader may open on the portal (no ordering, nothing prefetched): the
    newsroom's one public rule (``newsroom.audience``)."""
    return item_list_public()


def portal_item_list(
    *, unit: AdministrativeUnit | None = None, category: Category | None = None
) -> QuerySet[NewsItem]:
    """Items for a listing, newest first.

    Without ``unit`` (home, categories) only province-wide items are listed. With a unit,
    items of its subtree; district-scope items too when the unit is below the province.
    """
    if unit is None:
        qs = portal_item_base().filter(distribution__in=PROVINCE_DISTRIBUTIONS)
    else:
        qs = item_list_public(unit=unit)
    if category is not None:
        qs = qs.filter(category=category)
    return _with_related(qs).order_by("-first_published_at", "-pk")


def portal_item_get(*, uuid) -> NewsItem | None:
    """The published item for its page, with everything the page shows, or None."""
    return _with_related(portal_item_base().filter(uuid=uuid), ITEM_SPECS).first()


def portal_item_pictures(*, item: NewsItem) -> list[Picture]:
    """The item's pictures in reading order (``newsroom.pictures.item_pictures``: lead
    first, none without alt text), with the gallery's renditions prefetched: two queries
    (the gallery's images, their renditions) whatever the gallery's size; none without one.
    """
    pictures = item_pictures(item)
    gallery = [p.image for p in pictures if not p.lead]
    if gallery:
        prefetch_related_objects(
            gallery, Prefetch("renditions", queryset=_image_renditions(ITEM_SPECS))
        )
    return pictures


def portal_body_images(*, item: NewsItem) -> dict[int, object]:
    """The library images the item's body embeds (pk → image), their figure renditions
    prefetched: two queries whatever their number; none when the body has no picture."""
    ids = body_image_ids(item.body)
    if not ids:
        return {}
    renditions = Prefetch("renditions", queryset=_image_renditions(ITEM_SPECS))
    return get_image_model().objects.prefetch_related(renditions).in_bulk(ids)


def portal_item_was_withdrawn(*, uuid) -> bool:
    """True when the item was published once and has been withdrawn (the page is gone)."""
    return NewsItem.objects.filter(
        uuid=uuid, withdrawn_at__isnull=False, first_published_at__isnull=False
    ).exists()


def portal_featured_items(*, home) -> list[NewsItem]:
    """The items editors featured on ``home``, in their order; withdrawn ones drop out."""
    qs = portal_item_base().filter(portal_featured__page=home)
    return list(_with_related(qs).order_by("portal_featured__sort_order", "portal_featured__pk"))


def portal_category_sections(
    *, per_category: int = 3, window: int = SECTION_WINDOW
) -> list[tuple[Category, list[NewsItem]]]:
    """The newest ``per_category`` items of each category, in category order.

    Two queries whatever the table size: the ids and categories of the ``window`` newest
    province-wide items (an index scan on ``live, -first_published_at``), then the chosen
    items. A category with nothing among those ``window`` items has no section (its own
    page still lists everything).
    """
    recent = (
        portal_item_base()
        .filter(distribution__in=PROVINCE_DISTRIBUTIONS, category__isnull=False)
        .order_by("-first_published_at", "-pk")
        .values_list("pk", "category_id")[:window]
    )
    chosen: dict[int, list[int]] = {}
    for pk, category_id in recent:
        ids = chosen.setdefault(category_id, [])
        if len(ids) < per_category:
            ids.append(pk)
    wanted = [pk for ids in chosen.values() for pk in ids]
    if not wanted:
        return []
    items = (
        NewsItem.objects.filter(pk__in=wanted)
        .select_related("category")
        .order_by("category__sort_order", "category__name", "-first_published_at", "-pk")
    )
    sections: OrderedDict[int, tuple[Category, list[NewsItem]]] = OrderedDict()
    for item in items:
        sections.setdefault(item.category_id, (item.category, []))[1].append(item)
    return list(sections.values())


def portal_category_list() -> list[Category]:
    return list(Category.objects.order_by("sort_order", "name"))


def portal_category_get(*, slug: str) -> Category | None:
    return Category.objects.filter(slug=slug).first()


def portal_unit_get(*, code: str) -> AdministrativeUnit | None:
    return AdministrativeUnit.objects.filter(code=code, is_active=True).first()


def portal_unit_children(*, unit: AdministrativeUnit) -> list[AdministrativeUnit]:
    """The unit's active children in Vietnamese alphabetical order of their proper names."""
    return units_sorted(
        AdministrativeUnit.objects.filter(
            path__startswith=unit.path, depth=unit.depth + 1, is_active=True
        )
    )


def portal_unit_roots() -> list[AdministrativeUnit]:
    """The provinces, in Vietnamese alphabetical order of their proper names."""
    return units_sorted(AdministrativeUnit.objects.filter(depth=1, is_active=True))


def portal_unit_ancestors(*, unit: AdministrativeUnit) -> list[AdministrativeUnit]:
    """The unit's ancestors from the top down, without the unit itself (one query)."""
    return [u for u in unit.ancestors_and_self() if u.pk != unit.pk]


def portal_news_sitemap_items(*, since) -> QuerySet[NewsItem]:
    """Items first published since ``since`` (Google News: the last two days, ≤ 1000)."""
    return (
        portal_item_base()
        .filter(first_published_at__gte=since)
        .select_related("category")
        .order_by("-first_published_at", "-pk")
    )
