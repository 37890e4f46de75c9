"""Operators' admin views, each confined to the user's unit subtrees: programmes (with the
conflict preview), emergencies, monitoring, proof of play (+ CSV), device tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exports import csv_writer
from newsroom.models import AdministrativeUnit

from . import services
from .forms import CommandForm, EmergencyForm, ProgrammeForm
from .models import Device, Programme
from .monitoring import alert_list_open, device_is_online, device_list_monitoring, proof_of_play
from .permissions import schedulable_units
from .programmes.rules import describe_slots, format_times, repeat_from_slots
from .programmes.selectors import (
    conflicts_grouped,
    emergency_list_active,
    programme_list_for_units,
    programme_playlist_problems,
    schedule_conflicts,
    slot_duration_estimate,
)
from .timeline import LOCAL_TZ

RULE_TEXT = {
    "queued_in_start_order": gettext_lazy(
        "Same class: they play one after the other in start order; the later one is "
        "delayed, nothing is dropped."
    ),
    "priority_ahead": gettext_lazy(
        "Priority: inserted ahead of the normal content at the next slot."
    ),
    "emergency_preempts": gettext_lazy(
        "Emergency: interrupts everything else; the interrupted content plays after it."
    ),
}


def _units(request):
    units = schedulable_units(request.user)
    if not request.user.is_superuser and not units.exists():
        raise PermissionDenied
    return units


def root_units(request) -> list[AdministrativeUnit]:
    """The tops of the user's subtrees (provinces for a superuser)."""
    if request.user.is_superuser:
        return list(AdministrativeUnit.objects.filter(depth=1).order_by("name"))
    units = sorted(_units(request).only("pk", "path", "name", "depth"), key=lambda u: u.path)
    roots: list[AdministrativeUnit] = []
    for unit in units:
        if not any(unit.path.startswith(r.path) for r in roots):
            roots.append(unit)
    return roots


def _chosen_unit_ids(request) -> tuple[list[int], AdministrativeUnit | None]:
    roots = root_units(request)
    wanted = request.GET.get("unit") or request.POST.get("unit")
    if wanted and wanted.isdigit():
        unit = _units(request).filter(pk=int(wanted)).first()
        if unit is None:
            raise PermissionDenied
        return [unit.pk], unit
    return [u.pk for u in roots], None


def _parse_day(value: str | None, default):
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value or "", fmt).date()
        except ValueError:
            continue
    return default


# --- programmes ---------------------------------------------------------------------------


def programme_index(request):
    unit_ids, unit = _chosen_unit_ids(request)
    if request.method == "POST" and request.POST.get("stop"):
        programme = get_object_or_404(Programme, pk=request.POST["stop"])
        try:
            services.programme_stop(user=request.user, programme=programme)
        except PermissionDenied:
            messages.error(request, _("You cannot stop this programme."))
        else:
            messages.success(request, _("“%(name)s” stopped.") % {"name": programme.name})
        return redirect("broadcast_programmes")
    programmes = list(programme_list_for_units(unit_ids=unit_ids)[:200])
    problems = programme_playlist_problems(programmes)
    for programme in programmes:
        programme.editable = editable(programme)
        programme.when = describe_slots(programme.slots.all())
        programme.problems = problems.get(programme.pk, [])
    return render(
        request,
        "broadcast/admin/programmes.html",
        {
            "page_title": _("Broadcast programmes"),
            "programmes": programmes,
            "roots": root_units(request),
            "unit": unit,
        },
    )


def programme_add(request):
    return _programme_form(request, None)


def programme_edit(request, pk: int):
    """Edit = this version stops now and the revised one is scheduled (see
    ``services.programme_revise``); only an active, non-emergency programme of one slot
    (what this form schedules) is edited here."""
    programme = get_object_or_404(Programme.objects.prefetch_related("slots", "targets"), pk=pk)
    if not services.user_can_manage_programme(request.user, programme):
        messages.error(request, _("You cannot edit this programme."))
        return redirect("broadcast_programmes")
    if not editable(programme):
        messages.error(request, _("Only an active programme with one slot can be edited here."))
        return redirect("broadcast_programmes")
    return _programme_form(request, programme)


def editable(programme: Programme) -> bool:
    """Active, not an emergency, and its slots are what the form's controls make (one
    content, a rule the controls can say)."""
    slots = list(programme.slots.all())
    return (
        programme.stopped_at is None
        and programme.bulletin_class != "emergency"
        and bool(slots)
        and len({(s.content, s.tts_text, s.relay_url, s.valid_until) for s in slots}) == 1
        and repeat_from_slots(slots) is not None
    )


def _initial(programme: Programme) -> dict:
    """The form's values for a programme: its targets, its repeat controls (from today
    for a recurring rule: a revision is scheduled from now on) and its content."""
    slots = list(programme.slots.all())
    slot = slots[0]
    repeat = repeat_from_slots(slots)
    today = timezone.localtime(timezone.now(), LOCAL_TZ).date()
    first_day = repeat.first_day if repeat.mode == "once" else max(repeat.first_day, today)
    targets = list(programme.targets.all())
    return {
        "name": programme.name,
        "bulletin_class": programme.bulletin_class,
        "target_units": [t.unit_id for t in targets if t.unit_id],
        "target_zones": [t.zone_id for t in targets if t.zone_id],
        "target_clusters": [t.cluster_id for t in targets if t.cluster_id],
        "repeat": repeat.mode,
        "first_day": first_day,
        "times": format_times(repeat.times),
        "weekdays": list(repeat.weekdays),
        "valid_until": slot.valid_until and timezone.localtime(slot.valid_until, LOCAL_TZ).date(),
        "content": slot.content,
        "items": list(slot.entries.order_by("position").values_list("item_id", flat=True)),
        "tts_text": slot.tts_text,
        "tts_voice": slot.tts_voice,
        "tts_speed": slot.tts_speed,
        "relay_url": slot.relay_url,
        "duration_seconds": slot.duration_seconds,
    }


def _programme_form(request, programme: Programme | None):
    units = _units(request)
    initial = _initial(programme) if programme is not None else None
    keep = initial["items"] if initial else ()
    form = ProgrammeForm(request.POST or None, units=units, initial=initial, keep_items=keep)
    conflicts = None
    if request.method == "POST" and form.is_valid():
        slots = form.slots()
        targets = form.targets()
        try:
            services.programme_check(
                user=request.user,
                bulletin_class=form.cleaned_data["bulletin_class"],
                targets=targets,
                slots=slots,
            )
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        if form.is_valid():
            conflicts = conflicts_grouped(
                schedule_conflicts(
                    bulletin_class=form.cleaned_data["bulletin_class"],
                    targets=targets,
                    slots=[{**s, "duration": slot_duration_estimate(s)} for s in slots],
                    exclude_programme_id=programme.pk if programme is not None else None,
                )
            )
            for conflict in conflicts:
                conflict["rule_text"] = RULE_TEXT[conflict["rule"]]
            if not conflicts or form.cleaned_data.get("confirm"):
                fields = {
                    "user": request.user,
                    "name": form.cleaned_data["name"],
                    "bulletin_class": form.cleaned_data["bulletin_class"],
                    "targets": targets,
                    "slots": slots,
                }
                try:
                    if programme is None:
                        saved = services.programme_create(**fields)
                        done = _("“%(name)s” scheduled: %(when)s.")
                    else:
                        saved = services.programme_revise(programme=programme, **fields)
                        done = _("“%(name)s” revised: %(when)s, from now on.")
                except ValidationError as exc:
                    form.add_service_errors(exc.message_dict)
                except PermissionDenied as exc:
                    form.add_error(None, str(exc))
                else:
                    when = describe_slots(saved.slots.all())
                    messages.success(request, done % {"name": saved.name, "when": when})
                    return redirect("broadcast_programmes")
            if form.is_valid():
                data = request.POST.copy()
                data["confirm"] = "on"
                form = ProgrammeForm(data, units=units, keep_items=keep)
                form.is_valid()
    title = _("New broadcast programme") if programme is None else _("Edit broadcast programme")
    return render(
        request,
        "broadcast/admin/programme_form.html",
        {
            "page_title": title,
            "form": form,
            "conflicts": conflicts,
            "programme": programme,
            "tree": form.target_tree(),
            "when": describe_slots(form.cleaned_data["slots"])
            if form.is_bound and form.is_valid()
            else "",
        },
    )


def emergency(request):
    units = _units(request)
    form = EmergencyForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        try:
            programme = services.emergency_start(
                user=request.user,
                name=form.cleaned_data["name"],
                targets=form.targets(),
                tts_text=form.cleaned_data.get("tts_text") or "",
                items=[i.pk for i in form.cleaned_data.get("items") or []],
                relay_url=form.cleaned_data.get("relay_url") or "",
                duration_seconds=form.cleaned_data.get("duration_seconds"),
            )
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            form.add_error(None, "; ".join(sum(exc.message_dict.values(), [])))
        else:
            messages.warning(request, _("Emergency “%(name)s” started.") % {"name": programme.name})
            return redirect("broadcast_emergency")
    unit_ids = [u.pk for u in root_units(request)]
    return render(
        request,
        "broadcast/admin/emergency.html",
        {
            "page_title": _("Emergency broadcast"),
            "form": form,
            "active": emergency_list_active(unit_ids=unit_ids),
            "tree": form.target_tree(),
        },
    )


# --- monitoring ---------------------------------------------------------------------------


def monitoring(request):
    unit_ids, unit = _chosen_unit_ids(request)
    devices_qs = device_list_monitoring(unit_ids=unit_ids)
    if request.method == "POST":
        form = CommandForm(request.POST, devices=devices_qs)
        if form.is_valid():
            kind = form.cleaned_data["kind"]
            payload = {"volume": form.cleaned_data.get("volume")} if kind == "set_volume" else {}
            try:
                services.command_issue(
                    user=request.user,
                    devices=[form.cleaned_data["device"]],
                    kind=kind,
                    payload=payload,
                )
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, str(getattr(exc, "messages", [exc])[0]))
            else:
                messages.success(request, _("Command sent."))
        else:
            messages.error(request, _("The command could not be sent."))
        return redirect(request.get_full_path())
    only_offline = request.GET.get("offline") == "1"
    devices = list(device_list_monitoring(unit_ids=unit_ids, only_offline=only_offline)[:500])
    now = timezone.now()
    for device in devices:
        device.online = device_is_online(device, now)
    return render(
        request,
        "broadcast/admin/monitoring.html",
        {
            "page_title": _("Loudspeaker monitoring"),
            "devices": devices,
            "online": sum(1 for d in devices if d.online),
            "alerts": list(alert_list_open(unit_ids=unit_ids)[:100]),
            "roots": root_units(request),
            "unit": unit,
            "only_offline": only_offline,
            "command_form": CommandForm(devices=devices_qs),
        },
    )


# --- proof of play ------------------------------------------------------------------------


def proof_of_play_view(request):
    unit_ids, unit = _chosen_unit_ids(request)
    today = timezone.localtime(timezone.now(), LOCAL_TZ).date()
    first = _parse_day(request.GET.get("start"), today)
    last = _parse_day(request.GET.get("end"), first)
    if last < first or (last - first).days > 31:
        last = first
    start = datetime.combine(first, datetime.min.time(), tzinfo=LOCAL_TZ)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=LOCAL_TZ)
    data = proof_of_play(unit_ids=unit_ids, start=start, end=end)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="phat-thanh-{first:%Y%m%d}-{last:%Y%m%d}.csv"'
        )
        # A BOM (Excel reads Vietnamese correctly); names never run as formulas.
        writer = csv_writer(response, bom=True)
        writer.writerow(
            [
                _("Day"),
                _("Commune code"),
                _("Commune"),
                _("Loudspeakers"),
                _("Scheduled (s)"),
                _("Played (s)"),
            ]
        )
        for row in data["rows"]:
            writer.writerow(
                [
                    row["day"].strftime("%d/%m/%Y"),
                    row["commune"].code,
                    row["commune"].name,
                    row["devices"],
                    row["scheduled_seconds"],
                    row["played_seconds"],
                ]
            )
        writer.writerow([])
        writer.writerow(
            [_("Gaps"), _("Commune"), _("Cluster"), _("Device"), _("Programme"), _("Start")]
        )
        for gap in data["gaps"]:
            writer.writerow(
                [
                    "",
                    gap["commune"].name,
                    gap["cluster"].name,
                    gap["device"].serial,
                    gap["programme"],
                    timezone.localtime(gap["start"], LOCAL_TZ).strftime("%d/%m/%Y %H:%M"),
                ]
            )
        return response
    return render(
        request,
        "broadcast/admin/proof_of_play.html",
        {
            "page_title": _("Proof of play"),
            "rows": data["rows"],
            "gaps": data["gaps"],
            "roots": root_units(request),
            "unit": unit,
            "start": first,
            "end": last,
        },
    )


# --- device tokens ------------------------------------------------------------------------


def device_token(request, pk: int):
    """Issue (or rotate) and revoke a device's token; a new token is shown only once."""
    device = get_object_or_404(Device.objects.select_related("cluster__commune"), pk=pk)
    if (
        not request.user.is_superuser
        and not _units(request).filter(pk=device.cluster.commune_id).exists()
    ):
        raise PermissionDenied
    token = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.device_token_revoke(device=device, user=request.user)
            messages.warning(request, _("The device's token was revoked."))
            return redirect("broadcast_device_token", pk=device.pk)
        token = services.device_token_issue(device=device, user=request.user)
    response = render(
        request,
        "broadcast/admin/device_token.html",
        {"page_title": _("Device token"), "device": device, "token": token},
    )
    response["Cache-Control"] = "no-store"
    return response
