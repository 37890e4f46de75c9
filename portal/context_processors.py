"""What every page wearing the portal's header and footer needs (the portal's own pages and
``/search/``): the publisher's identity and the navigation's categories. Lazy: a template
that never shows them (the admin) costs nothing."""

from django.utils.functional import SimpleLazyObject

from core.identity import identity_get

from . import selectors


def portal_chrome(request):
    return {
        "identity": SimpleLazyObject(identity_get),
        "nav_categories": SimpleLazyObject(selectors.portal_category_list),
    }
