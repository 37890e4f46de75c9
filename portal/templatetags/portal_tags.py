"""Links and small formatting for portal templates (no queries)."""

from django import template
from django.utils.http import urlencode

from portal.views import CATEGORY_PATH, PAGE_PARAM, UNIT_PATH

register = template.Library()


@register.filter
def unit_url(unit) -> str:
    return UNIT_PATH.format(code=unit.code)


@register.filter
def category_url(category) -> str:
    return CATEGORY_PATH.format(slug=category.slug)


@register.simple_tag(takes_context=True)
def page_url(context, number) -> str:
    """The current listing's URL at page ``number`` (page 1 drops the parameter)."""
    request = context["request"]
    params = request.GET.copy()
    params.pop(PAGE_PARAM, None)
    if int(number) > 1:
        params[PAGE_PARAM] = str(number)
    query = urlencode(sorted(params.items())) if params else ""
    return request.path + ("?" + query if query else "")
