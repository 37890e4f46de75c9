"""Intake API tokens in the admin: a unit admin issues, lists and revokes the tokens of the
reporters in their subtree (superusers: everyone's). The secret is shown once, on the page
that issued it (``Cache-Control: no-store``). Every action goes through
``newsroom.intake`` (the same services as ``manage.py intake_token``) and is audited."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.names import full_name

from . import policy
from .intake import intake_token_issue, intake_token_list, intake_token_revoke, intake_token_users
from .models import IntakeToken


def may_manage_tokens(user) -> bool:
    return bool(
        getattr(user, "is_superuser", False) or policy.units_for(user, "manage_members").exists()
    )


class TokenForm(forms.Form):
    user = forms.ModelChoiceField(
        label=gettext_lazy("Reporter"), queryset=get_user_model().objects.none()
    )
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("Where it is used, e.g. “Điện thoại của phóng viên xã”."),
    )

    def __init__(self, *args, by, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = intake_token_users(by=by)
        self.fields["user"].label_from_instance = lambda u: (
            f"{full_name(u) or u.get_username()} ({u.get_username()})"
        )


def token_index(request):
    if not may_manage_tokens(request.user):
        raise PermissionDenied
    by = request.user
    form = TokenForm(request.POST or None, by=by)
    issued = None
    if request.method == "POST" and request.POST.get("revoke"):
        token = get_object_or_404(IntakeToken, pk=request.POST["revoke"])
        try:
            intake_token_revoke(token=token, by=by)
        except PermissionDenied:
            messages.error(request, _("You cannot manage intake tokens for this account."))
        else:
            messages.warning(
                request,
                _("Token “%(name)s” revoked: the app can no longer send.") % {"name": token.name},
            )
        return redirect("newsroom_intake_tokens")
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = intake_token_issue(
                user=form.cleaned_data["user"], name=form.cleaned_data["name"], by=by
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except PermissionDenied as exc:
            form.add_error("user", str(exc))
        else:
            issued = {"token": token, "secret": raw}
            form = TokenForm(by=by)
    response = TemplateResponse(
        request,
        "newsroom/admin/intake_tokens.html",
        {
            "page_title": _("Intake app tokens"),
            "header_icon": "key",
            "form": form,
            "issued": issued,
            "tokens": list(intake_token_list(by=by)[:500]),
        },
    )
    response["Cache-Control"] = "no-store"
    return response
