"""Admin views for media: the processing list with progress bars, a status feed for the
bars to follow, and the retry action for failed assets."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .models import MediaAsset
from .selectors import asset_list_for_admin, asset_status_map
from .services import asset_retry


def asset_list_view(request):
    status = request.GET.get("status", "")
    assets = asset_list_for_admin(status=status)
    page = Paginator(assets, 50).get_page(request.GET.get("p"))
    return TemplateResponse(
        request,
        "media/admin/asset_list.html",
        {
            "page_obj": page,
            "assets": page.object_list,
            "status": status,
            "statuses": MediaAsset.Status.choices,
            "can_retry": request.user.has_perm("media.change_mediaasset"),
            "page_title": _("Media files"),
            "header_title": _("Media files"),
        },
    )


def asset_status_view(request):
    ids = [int(x) for x in request.GET.get("ids", "").split(",") if x.strip().isdigit()][:200]
    return JsonResponse({"assets": asset_status_map(ids=ids)})


@require_POST
def asset_retry_view(request, pk: int):
    if not request.user.has_perm("media.change_mediaasset"):
        raise PermissionDenied
    asset = get_object_or_404(MediaAsset, pk=pk)
    if asset_retry(asset_id=asset.pk, user=request.user):
        messages.success(request, _("“%(name)s” is queued again.") % {"name": asset})
    else:
        messages.warning(request, _("“%(name)s” is being processed right now.") % {"name": asset})
    return redirect(request.POST.get("next") or "media_asset_list")
