"""Admin screens of the syndication app: the delivery log (per item, per subscriber) with
resend, open alerts, and received (ingested) items. Thin: parse input, call a selector or
service, render."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from newsroom.models import NewsItem

from .models import Alert, Delivery, IngestedItem, Subscriber
from .services import delivery_resend

PAGE_SIZE = 50


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@require_GET
def delivery_log(request):
    """Every delivery, newest first; ``?subscriber=``, ``?item=`` and ``?state=`` narrow it."""
    _require(request, "syndication.view_delivery")
    qs = Delivery.objects.select_related("subscriber").order_by("-created_at", "-id")
    subscriber = item = None
    if (pk := _int(request.GET.get("subscriber"))) is not None:
        subscriber = Subscriber.objects.filter(pk=pk).first()
        qs = qs.filter(subscriber_id=pk)
    if (pk := _int(request.GET.get("item"))) is not None:
        item = NewsItem.objects.filter(pk=pk).first()
        qs = qs.filter(item_id=pk)
    state = request.GET.get("state", "")
    if state in Delivery.State.values:
        qs = qs.filter(state=state)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("p"))
    title = _("Delivery log")
    if subscriber is not None:
        title = _("Delivery log: %(name)s") % {"name": subscriber.name}
    elif item is not None:
        title = _("Delivery log: %(name)s") % {"name": item.headline}
    return render(
        request,
        "syndication/delivery_log.html",
        {
            "page_title": title,
            "page": page,
            "states": Delivery.State.choices,
            "state": state,
            "subscribers": Subscriber.objects.all(),
            "subscriber": subscriber,
            "item": item,
            "can_resend": request.user.has_perm("syndication.change_delivery"),
        },
    )


@require_POST
def delivery_resend_view(request, pk: int):
    delivery = get_object_or_404(Delivery, pk=pk)
    delivery_resend(user=request.user, delivery=delivery)
    messages.success(
        request,
        _("“%(headline)s” is queued again for %(subscriber)s.")
        % {"headline": delivery.headline, "subscriber": delivery.subscriber.name},
    )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("syndication_deliveries")
    return redirect(back)


@require_GET
def alert_list(request):
    _require(request, "syndication.view_alert")
    show_all = request.GET.get("all") == "1"
    qs = Alert.objects.select_related("subscriber", "source", "delivery")
    if not show_all:
        qs = qs.filter(resolved_at__isnull=True)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("p"))
    return render(
        request,
        "syndication/alert_list.html",
        {
            "page_title": _("Syndication alerts"),
            "page": page,
            "show_all": show_all,
            "can_resolve": request.user.has_perm("syndication.change_alert"),
        },
    )


@require_POST
def alert_resolve(request, pk: int):
    _require(request, "syndication.change_alert")
    Alert.objects.filter(pk=pk, resolved_at__isnull=True).update(resolved_at=timezone.now())
    messages.success(request, _("Alert closed."))
    return redirect("syndication_alerts")


@require_GET
def received_list(request):
    _require(request, "syndication.view_ingesteditem")
    qs = IngestedItem.objects.select_related("source", "item")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("p"))
    return render(
        request,
        "syndication/received_list.html",
        {"page_title": _("Received items"), "page": page},
    )
