"""People's names, the Vietnamese way: family name first ("Nguyễn Văn Phóng").

Accounts keep Django's two fields: ``last_name`` holds the family and middle names
("Nguyễn Văn"), ``first_name`` the given name ("Phóng"), as Wagtail's account form asks
("Họ" / "Tên"). ``full_name`` is the one rule every screen, email, feed and export uses.

Django's ``User.get_full_name`` reads "first last", and Wagtail (user listings, log
entries, workflow history, lock messages, its emails) calls ``get_full_name()``, the
extension point Django documents for custom user models. Swapping ``AUTH_USER_MODEL`` on a
database that already has users and foreign keys to ``auth.User`` is not a supported
migration, so ``CoreConfig.ready`` points ``get_full_name`` of Django's user class at
``full_name`` instead: one assignment in one place, no copies of templates, and every
caller (ours, Wagtail's, Django's) gets the same order.
"""

from __future__ import annotations


def full_name(user) -> str:
    """ "Nguyễn Văn Phóng": family (and middle) names, then the given name; "" if none."""
    if user is None:
        return ""
    parts = (getattr(user, "last_name", "") or "", getattr(user, "first_name", "") or "")
    return " ".join(part.strip() for part in parts if part and part.strip())


def display_name(user) -> str:
    """The full name, or the login when the account has no name."""
    if user is None:
        return ""
    return full_name(user) or user.get_username()


def _get_full_name(self) -> str:
    return full_name(self)


def install() -> None:
    """Make ``get_full_name()`` of Django's user class follow ``full_name`` (see above)."""
    from django.contrib.auth.models import AbstractUser

    AbstractUser.get_full_name = _get_full_name
