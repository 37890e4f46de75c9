"""The administrative reform in the admin: the same operation as ``manage.py reform_units``,
previewed (a dry run that shows every change) before it is applied. Superusers only: a
reform rewires the whole tree and everything that points at it."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import AdministrativeUnit
from .reform import collapse_plan, units_reform

# A whole country's reform is a few thousand lines; more is a mistake, refused before any query.
MAX_LINES = 10_000


def _pairs(text: str, field_label: str) -> list[tuple[str, str]]:
    if text.count("\n") >= MAX_LINES:
        raise forms.ValidationError(
            _("%(field)s: at most %(max)d lines at a time.")
            % {"field": field_label, "max": MAX_LINES}
        )
    pairs = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        left, sep, right = line.partition(":")
        if not sep or not left.strip() or not right.strip():
            raise forms.ValidationError(
                _("%(field)s, line %(number)d: write CODE:CODE, not “%(line)s”.")
                % {"field": field_label, "number": number, "line": line}
            )
        pairs.append((left.strip(), right.strip()))
    return pairs


class ReformForm(forms.Form):
    moves = forms.CharField(
        label=gettext_lazy("Move units"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One per line: UNIT CODE:NEW PARENT CODE, e.g. 25198:70."),
    )
    merges = forms.CharField(
        label=gettext_lazy("Merge units"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "One per line: UNIT CODE:SURVIVING UNIT CODE. Items, memberships, clusters and "
            "schedules follow the surviving unit; the merged unit stays, inactive."
        ),
    )
    collapse = forms.CharField(
        label=gettext_lazy("Abolish the districts of province"),
        required=False,
        max_length=20,
        help_text=gettext_lazy(
            "A province code: its communes move under the province, its districts merge into it."
        ),
    )

    def clean(self):
        data = super().clean()
        moves = _pairs(data.get("moves", ""), _("Move units"))
        merges = _pairs(data.get("merges", ""), _("Merge units"))
        codes = {code for pair in moves + merges for code in pair}
        if data.get("collapse"):
            codes.add(data["collapse"])
        known = set(
            AdministrativeUnit.objects.filter(code__in=codes).values_list("code", flat=True)
        )
        unknown = sorted(codes - known)
        if unknown:
            raise forms.ValidationError(_("Unknown unit codes: %s.") % ", ".join(unknown))
        if data.get("collapse"):
            more_moves, more_merges = collapse_plan(data["collapse"])
            moves += more_moves
            merges += more_merges
        if not moves and not merges:
            raise forms.ValidationError(_("Nothing to change: give a move, a merge or a province."))
        data["plan"] = (moves, merges)
        return data


def reform_view(request):
    """GET: the form. POST with ``preview``: a dry run listing every change. POST with
    ``apply``: the reform, in one transaction, then back to the units."""
    if not request.user.is_superuser:
        raise PermissionDenied
    report = None
    form = ReformForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        moves, merges = form.cleaned_data["plan"]
        apply = "apply" in request.POST
        try:
            report = units_reform(moves=moves, merges=merges, dry_run=not apply, user=request.user)
        except (AdministrativeUnit.DoesNotExist, ValueError) as exc:
            form.add_error(None, str(exc))
        else:
            if apply:
                messages.success(
                    request,
                    _("The reform was applied: %(n)d changes.") % {"n": len(report.lines)},
                )
                return redirect(reverse("newsroom_reform") + "?done=1")
    return TemplateResponse(
        request,
        "newsroom/reform.html",
        {
            "form": form,
            "report": report,
            "page_title": _("Administrative reform"),
            "header_title": _("Administrative reform"),
        },
    )
