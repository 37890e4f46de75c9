"""The live page (*Phát trực tiếp*) and the JSON endpoints its script calls. Thin: each
parses the request and calls one service of ``broadcast.live.services``.

Transport: the browser's MediaRecorder slices (WebM/Opus, 250 ms) are sent as plain HTTP
POSTs, one per slice, in order (docs/broadcast.md says why: it runs under the WSGI server
we already deploy, any web process may take a slice, and a lost browser is simply a source
that stops growing)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..forms import LiveForm
from ..models import LiveBroadcast
from ..permissions import live_units
from . import icecast
from .selectors import live_list_on_air, live_list_recent, relay_alerts_open
from .services import live_chunk, live_enabled, live_start, live_stop


def _units(request):
    units = live_units(request.user)
    if not request.user.is_superuser and not units.exists():
        raise PermissionDenied
    return units


def _error(exc: Exception, status: int) -> JsonResponse:
    if isinstance(exc, ValidationError):
        text = "; ".join(
            sum(exc.message_dict.values(), []) if hasattr(exc, "error_dict") else exc.messages
        )
    else:
        text = str(exc) or _("You cannot do this.")
    return JsonResponse({"error": text}, status=status)


def live_page(request):
    units = _units(request)
    form = LiveForm(units=units)
    if request.method == "POST" and request.POST.get("stop"):
        live = get_object_or_404(LiveBroadcast, pk=request.POST["stop"])
        try:
            live_stop(user=request.user, live=live)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The live broadcast ended."))
        return redirect("broadcast_live")
    return render(
        request,
        "broadcast/admin/live.html",
        {
            "page_title": _("Live broadcast"),
            "form": form,
            "enabled": live_enabled(),
            "icecast_installed": icecast.binary() is not None,
            "on_air": live_list_on_air(),
            "recent": live_list_recent(units=units),
            "relay_alerts": relay_alerts_open(),
        },
    )


@require_POST
def live_start_view(request):
    if not live_enabled():
        return _error(
            ValidationError(_("Live broadcasting is off: no Icecast server is configured.")), 409
        )
    form = LiveForm(request.POST, units=_units(request))
    if not form.is_valid():
        errors = [e for errs in form.errors.values() for e in errs]
        return JsonResponse({"error": "; ".join(errors)}, status=400)
    try:
        live = live_start(
            user=request.user,
            targets=form.targets(),
            bulletin_class=form.cleaned_data["bulletin_class"],
            name=form.cleaned_data.get("name") or "",
        )
    except PermissionDenied as exc:
        return _error(exc, 403)
    except ValidationError as exc:
        return _error(exc, 409)
    return JsonResponse(
        {
            "id": live.pk,
            "name": live.programme.name,
            "mount": live.mount,
            "listen_url": icecast.listen_url(live.mount),
        },
        status=201,
    )


@require_POST
def live_chunk_view(request, pk: int):
    live = get_object_or_404(LiveBroadcast, pk=pk)
    try:
        received = live_chunk(user=request.user, live=live, data=request.body)
    except PermissionDenied as exc:
        return _error(exc, 403)
    except ValidationError as exc:
        return _error(exc, 409)
    return JsonResponse({"received": received})


@require_POST
def live_stop_view(request, pk: int):
    live = get_object_or_404(LiveBroadcast, pk=pk)
    try:
        live = live_stop(user=request.user, live=live)
    except PermissionDenied as exc:
        return _error(exc, 403)
    return JsonResponse({"status": live.status})


def live_status_view(request, pk: int):
    live = get_object_or_404(LiveBroadcast, pk=pk)
    if live.user_id != request.user.pk and not request.user.is_superuser:
        raise PermissionDenied
    found = icecast.status(icecast.configured_url(), timeout=2) or {"mounts": {}}
    source = found["mounts"].get(live.mount)
    return JsonResponse(
        {
            "status": live.status,
            "end_reason": live.get_end_reason_display() if live.end_reason else "",
            "on_air": source is not None,
            "listeners": (source or {}).get("listeners", 0),
        }
    )
