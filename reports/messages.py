"""User-visible texts of the operations middleware (cms/middleware.py), kept here so that
they are translated in this app's catalogue."""

from django.utils.translation import gettext


def login_throttled_message(minutes: int) -> str:
    return gettext("Too many failed sign-in attempts. Try again in %(minutes)d minutes.") % {
        "minutes": minutes
    }
