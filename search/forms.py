"""Parse the search parameters of the portal page, the admin search and the API."""

from django import forms
from django.utils.translation import gettext_lazy as _

from newsroom.models import AdministrativeUnit, Category, NewsItem

from .backends.base import SORT_DATE, SORT_RELEVANCE

MAX_QUERY_LENGTH = 200
MAX_PAGE = 50

STATUS_CHOICES = [
    ("draft", _("Draft")),
    ("in_review", _("Awaiting approval")),
    ("returned", _("Returned")),
    ("published", _("Published")),
    ("withdrawn", _("Withdrawn")),
]
SORT_CHOICES = [(SORT_RELEVANCE, _("Best match")), (SORT_DATE, _("Newest first"))]
# dd/mm/yyyy as readers write it (d/m/yyyy too); ISO yyyy-mm-dd for links made before the
# page showed dd/mm/yyyy and for the month facet's links.
DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
DATE_DISPLAY = "%d/%m/%Y"
# The same formats for the browser's ``pattern`` (whitespace around is trimmed by the server).
DATE_PATTERN = r"\s*(\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{1,2}-\d{1,2})\s*"


def clean_query(value: str) -> str:
    """The query as searched: no NUL, trimmed, cut to ``MAX_QUERY_LENGTH`` characters."""
    return (value or "").replace("\x00", " ").strip()[:MAX_QUERY_LENGTH].strip()


class SearchForm(forms.Form):
    """Every field optional; a value that names nothing (an unknown unit code, category,
    type, status, an impossible date) is an error the page shows, never a server error."""

    q = forms.CharField(label=_("Search for"), required=False, strip=False)
    unit = forms.CharField(label=_("Unit (official code)"), required=False, max_length=16)
    category = forms.CharField(label=_("Category"), required=False, max_length=255)
    kind = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("Any"))] + NewsItem.Kind.choices
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any"))] + STATUS_CHOICES
    )
    tu = forms.DateField(
        label=_("From date"),
        required=False,
        input_formats=DATE_FORMATS,
        error_messages={
            "invalid": _("From date: not a date. Write it as dd/mm/yyyy, for example 03/12/2026.")
        },
    )
    den = forms.DateField(
        label=_("To date"),
        required=False,
        input_formats=DATE_FORMATS,
        error_messages={
            "invalid": _("To date: not a date. Write it as dd/mm/yyyy, for example 03/12/2026.")
        },
    )
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)
    trang = forms.IntegerField(required=False)

    def __init__(self, *args, editor: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.editor = editor
        if not editor:
            del self.fields["status"]
        for field in self.fields.values():
            field.error_messages.setdefault("invalid_choice", _("Unknown value: %(value)s."))

    def clean_q(self):
        return clean_query(self.cleaned_data.get("q") or "")

    def clean_unit(self):
        code = (self.cleaned_data.get("unit") or "").strip()
        if not code:
            return None
        unit = AdministrativeUnit.objects.filter(code=code).first()
        if unit is None:
            raise forms.ValidationError(_("No unit has the code %(code)s."), params={"code": code})
        return unit

    def clean_category(self):
        slug = (self.cleaned_data.get("category") or "").strip()
        if not slug:
            return None
        category = Category.objects.filter(slug=slug).first()
        if category is None:
            raise forms.ValidationError(_("No category %(slug)s."), params={"slug": slug})
        return category

    def clean_trang(self):
        page = self.cleaned_data.get("trang") or 1
        return min(max(page, 1), MAX_PAGE)

    def clean(self):
        data = super().clean()
        start, end = data.get("tu"), data.get("den")
        if start and end and start > end:
            self.add_error("den", _("The end date is before the start date."))
        return data

    def date_value(self, name: str) -> str:
        """What the date box shows: a valid date as dd/mm/yyyy (an ISO link's date too),
        anything else as typed so that the reader can correct it."""
        raw = (self.data.get(name) or "").strip() if self.is_bound else ""
        value = getattr(self, "cleaned_data", {}).get(name)
        return value.strftime(DATE_DISPLAY) if value else raw

    def filters(self) -> dict:
        """Keyword arguments for ``SearchQuery`` from valid data."""
        data = self.cleaned_data
        return {
            "within_path": data["unit"].path if data.get("unit") else None,
            "category": data["category"].slug if data.get("category") else None,
            "kind": data.get("kind") or None,
            "status": data.get("status") or None,
            "date_from": data.get("tu"),
            "date_to": data.get("den"),
            "sort": data.get("sort") or SORT_RELEVANCE,
        }
