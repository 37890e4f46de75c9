"""Which audience an approved item may reach: the one answer every channel reads.

The promise of Nguồn: an item reaches an audience only if its approved version went
through the whole chain for a scope that covers that audience. The live row of a
``NewsItem`` *is* the approved version (Wagtail's ``DraftStateMixin``: drafts and edits
wait in revisions), so its ``distribution`` is the approved scope and its ``unit`` the
approved owner. From those two:

- **web** (portal pages, feeds, ninjs, pushes, public search and suggestions, sitemaps):
  live, not withdrawn, and a scope that reaches a web page (district, province, national;
  "commune loudspeakers only" never does). District-scope items appear only on pages of a
  unit below the province (see ``item_list_public(unit=…)``).
- **loudspeakers and bulletin boards of a unit U**: live, not withdrawn, and the chain's
  last approving unit (``chain_top``: the commune, district or province that approved it
  last; the board's province for national items) is U or an ancestor of U. A commune's
  "commune loudspeakers only" bulletin therefore plays in that commune only; a district
  item in that district's subtree; a province item anywhere in the province.

Callers never re-derive these rules: ``cms``, ``syndication``, ``search`` and
``broadcast`` import them from here, and check them again when they read (defence in
depth), so a programme made before a scope change or a unit reform cannot leak.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .chain import SCOPE_RANK, UNIT_RANK, chain_top
from .models import AdministrativeUnit, NewsItem

D = NewsItem.Distribution
T = AdministrativeUnit.Type

# Scopes that reach a web page at all, and those that reach province-wide listings.
WEB_DISTRIBUTIONS = (D.DISTRICT, D.PROVINCE, D.NATIONAL)
PROVINCE_DISTRIBUTIONS = (D.PROVINCE, D.NATIONAL)


def item_list_public(*, unit: AdministrativeUnit | None = None) -> QuerySet[NewsItem]:
    """Every item a reader may find on a public channel (no ordering, nothing prefetched).

    Without ``unit``: province-wide web scopes and district ones (an item page, a feed of a
    unit below the province). With ``unit``: the items of its subtree that the unit's page
    may list (district-scope items only below the province)."""
    qs = NewsItem.objects.filter(
        live=True, withdrawn_at__isnull=True, distribution__in=WEB_DISTRIBUTIONS
    )
    if unit is not None:
        if unit.unit_type == T.PROVINCE or unit.depth == 1:
            qs = qs.filter(distribution__in=PROVINCE_DISTRIBUTIONS)
        qs = qs.filter(unit__path__startswith=unit.path)
    return qs


def item_is_public(item: NewsItem) -> bool:
    """Whether ``item`` (its live row) may appear on a public channel."""
    return bool(item.live and item.withdrawn_at is None and item.distribution in WEB_DISTRIBUTIONS)


def item_audience_unit(item: NewsItem) -> AdministrativeUnit:
    """The unit whose subtree's loudspeakers the approved version may play in."""
    return chain_top(item.unit, item.distribution)[1]


def item_reaches_unit(item: NewsItem, unit: AdministrativeUnit) -> bool:
    """Whether the approved version of ``item`` may play on loudspeakers (or show on the
    bulletin boards) of ``unit``."""
    if not item.live or item.withdrawn_at is not None:
        return False
    return unit.path.startswith(item_audience_unit(item).path)


def _ranks_at_least(rank: int) -> list[str]:
    return [scope for scope, r in SCOPE_RANK.items() if r >= rank]


def items_reaching_q(unit: AdministrativeUnit, ancestors=None) -> Q:
    """A filter on ``NewsItem`` selecting items approved for ``unit``'s loudspeakers,
    before the live/withdrawn test (``items_reaching`` adds it).

    For each ancestor A of ``unit`` (itself included) of level rank r: items owned in A's
    subtree whose effective scope rank reaches r — the scope asked for, or the owner's own
    level when that is higher (an item of A itself). That is exactly
    ``item_audience_unit(item)`` being A or above it, said in SQL."""
    q = Q(pk__in=[])
    for ancestor in ancestors if ancestors is not None else unit.ancestors_and_self():
        rank = UNIT_RANK.get(ancestor.unit_type)
        if rank is None:
            continue
        q |= Q(unit_id=ancestor.pk) | Q(
            unit__path__startswith=ancestor.path, distribution__in=_ranks_at_least(rank)
        )
    return q


def items_reaching(unit: AdministrativeUnit) -> QuerySet[NewsItem]:
    """Live, not withdrawn items whose approved scope covers ``unit``'s loudspeakers."""
    return NewsItem.objects.filter(items_reaching_q(unit), live=True, withdrawn_at__isnull=True)


def items_reaching_all(units) -> QuerySet[NewsItem]:
    """Items that may play on every one of ``units`` (a programme's targets)."""
    qs = NewsItem.objects.filter(live=True, withdrawn_at__isnull=True)
    for unit in units:
        qs = qs.filter(items_reaching_q(unit))
    return qs
