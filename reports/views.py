"""The statistics dashboard in the Wagtail admin: a unit subtree, a period, tables, charts,
CSV and XLSX export. Units are confined to those where the user holds a role."""

import datetime

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from newsroom.models import AdministrativeUnit, Membership, NewsItem
from newsroom.selectors import unit_list_for_user

from .charts import bar_chart
from .selectors import MEASURE_LABELS, MEASURES, report_build
from .tables import report_csv, report_tables, report_xlsx


def report_units_for_user(user):
    """Units a user may report on: their own units and, below them, every non-commune unit
    (a commune is chosen through its own membership; the national list stays short)."""
    if user.is_superuser:
        return AdministrativeUnit.objects.exclude(
            unit_type=AdministrativeUnit.Type.COMMUNE
        ).order_by("path")
    own = Membership.objects.filter(user=user).values_list("unit_id", flat=True)
    return (
        unit_list_for_user(user=user)
        .filter(Q(pk__in=own) | ~Q(unit_type=AdministrativeUnit.Type.COMMUNE))
        .order_by("path")
    )


# A report ends at most a year from today and spans at most ten years.
MAX_AHEAD_DAYS = 366
MAX_PERIOD_DAYS = 3653


class ReportForm(forms.Form):
    unit = forms.ModelChoiceField(label=gettext_lazy("Unit"), queryset=AdministrativeUnit.objects)
    start = forms.DateField(label=gettext_lazy("From"), input_formats=["%d/%m/%Y", "%Y-%m-%d"])
    end = forms.DateField(
        label=gettext_lazy("To (inclusive)"), input_formats=["%d/%m/%Y", "%Y-%m-%d"]
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = report_units_for_user(user)
        self.fields["unit"].label_from_instance = lambda u: (
            "— " * (u.depth - 1) + f"{u.name} ({u.code})"
        )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            raise forms.ValidationError(_("The end date is before the start date."))
        if end and end > timezone.localdate() + datetime.timedelta(days=MAX_AHEAD_DAYS):
            # 31/12/9999 and the like: nothing happened there (and the day after overflows).
            self.add_error("end", _("The end date is more than a year from today."))
        elif start and end and (end - start).days >= MAX_PERIOD_DAYS:
            self.add_error("start", _("The period is longer than ten years."))
        return data

    def period(self):
        tz = timezone.get_current_timezone()
        start = datetime.datetime.combine(self.cleaned_data["start"], datetime.time(), tz)
        end = datetime.datetime.combine(
            self.cleaned_data["end"] + datetime.timedelta(days=1), datetime.time(), tz
        )
        return start, end


SESSION_KEY = "reports:last"


def _home_unit(user):
    """The unit a user's statistics open on: their own unit (the widest where they hold a
    role); for a superuser without one, the province where the most items were written."""
    units = report_units_for_user(user)
    if not user.is_superuser or Membership.objects.filter(user=user).exists():
        own = (
            Membership.objects.filter(user=user, unit__in=units)
            .select_related("unit")
            .order_by("unit__depth", "unit__path")
            .first()
        )
        return own.unit if own else units.order_by("depth", "path").first()
    steplen = AdministrativeUnit.steplen
    busiest = (
        NewsItem.objects.annotate(top=Substr("unit__path", 1, steplen))
        .values("top")
        .annotate(n=Count("pk"))
        .order_by("-n", "top")
        .first()
    )
    if busiest:
        unit = units.filter(path=busiest["top"]).first()
        if unit is not None:
            return unit
    return units.order_by("depth", "path").first()


def _initial(request):
    """What the dashboard opens on: the unit and period last shown to this user in this
    session, else their own unit over the last 30 days."""
    last = request.session.get(SESSION_KEY)
    if last:
        return last
    today = timezone.localdate()
    unit = _home_unit(request.user)
    return {
        "unit": unit.pk if unit else None,
        "start": (today - datetime.timedelta(days=29)).strftime("%d/%m/%Y"),
        "end": today.strftime("%d/%m/%Y"),
    }


def _charts(report):
    activity = report.activity
    charts = [
        bar_chart(
            title=_("Newsroom activity"),
            labels=[str(MEASURE_LABELS[m]) for m in MEASURES],
            series=[(_("Count"), [activity.totals[m] for m in MEASURES])],
        ),
        bar_chart(
            title=_("By type"),
            labels=list(activity.by_kind),
            series=[
                (str(MEASURE_LABELS[m]), [c[m] for c in activity.by_kind.values()])
                for m in ("submitted", "published", "returned")
            ],
        ),
        bar_chart(
            title=_("Time to approve per level (hours)"),
            labels=[row["label"] for row in report.approval],
            series=[
                (_("Median"), [row["median_hours"] or 0 for row in report.approval]),
                (_("90th percentile"), [row["p90_hours"] or 0 for row in report.approval]),
            ],
        ),
    ]
    playback = report.loudspeakers.get("playback") or []
    if playback:
        charts.append(
            bar_chart(
                title=_("Loudspeaker hours per commune"),
                labels=[row["commune"] for row in playback],
                series=[
                    (_("Scheduled"), [row["scheduled_hours"] for row in playback]),
                    (_("Played"), [row["played_hours"] for row in playback]),
                ],
            )
        )
    return charts


def dashboard(request):
    user = request.user
    if not user.is_superuser and not Membership.objects.filter(user=user).exists():
        raise PermissionDenied
    data = request.GET if "unit" in request.GET else _initial(request)
    form = ReportForm(data, user=user)
    if not form.is_valid() and "unit" not in request.GET:
        request.session.pop(SESSION_KEY, None)  # a remembered unit the user lost
        form = ReportForm(_initial(request), user=user)
    report = tables = charts = None
    if form.is_valid():
        request.session[SESSION_KEY] = {
            "unit": form.cleaned_data["unit"].pk,
            "start": form.cleaned_data["start"].strftime("%d/%m/%Y"),
            "end": form.cleaned_data["end"].strftime("%d/%m/%Y"),
        }
        start, end = form.period()
        unit = form.cleaned_data["unit"]
        report = report_build(unit=unit, start=start, end=end)
        if not (user.is_superuser or unit.depth == 1):
            # Deliveries are counted per subscriber for the whole site, not per unit.
            report.deliveries = {"available": False}
        export = request.GET.get("export")
        first, last = form.cleaned_data["start"], form.cleaned_data["end"]
        stem = f"thong-ke-{unit.code}-{first:%Y%m%d}-{last:%Y%m%d}"
        if export == "csv":
            response = HttpResponse(
                "\ufeff" + report_csv(report), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
            return response
        if export == "xlsx":
            response = HttpResponse(
                report_xlsx(report),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            response["Content-Disposition"] = f'attachment; filename="{stem}.xlsx"'
            return response
        tables = report_tables(report)
        charts = _charts(report)
    query = request.GET.copy()
    query.pop("export", None)
    return TemplateResponse(
        request,
        "reports/dashboard.html",
        {
            "form": form,
            "report": report,
            "tables": tables,
            "charts": charts,
            "query": query.urlencode() if "unit" in request.GET else "",
            "page_title": _("Statistics"),
            "header_icon": "table",
        },
    )
