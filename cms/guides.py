"""Short user guides in Vietnamese, one per role, in the admin's help menu.

The text is the templates' content (``cms/templates/cms/guides/<role>.html``), written in
Vietnamese for the people who read it; this module only lists them and renders them."""

from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

# (slug, menu label, template); the order is the order of the help menu.
GUIDES = [
    ("phong-vien", _("Guide for reporters"), "cms/guides/reporter.html"),
    ("duyet-tin", _("Guide for approvers"), "cms/guides/approver.html"),
    ("lap-lich-loa", _("Guide for loudspeaker schedulers"), "cms/guides/scheduler.html"),
    ("quan-tri-don-vi", _("Guide for unit administrators"), "cms/guides/unit_admin.html"),
]
_BY_SLUG = {slug: (label, template) for slug, label, template in GUIDES}


def guide_index(request):
    return TemplateResponse(
        request,
        "cms/guides/index.html",
        {"guides": GUIDES, "page_title": _("User guides"), "header_title": _("User guides")},
    )


def guide_view(request, slug):
    if slug not in _BY_SLUG:
        raise Http404
    label, template = _BY_SLUG[slug]
    return TemplateResponse(
        request,
        template,
        {"guides": GUIDES, "page_title": label, "header_title": label, "slug": slug},
    )
