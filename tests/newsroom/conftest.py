"""Fixtures for the newsroom tests: the three-level test province plus a second province."""

import pytest
from django.core import mail

from newsroom.models import AdministrativeUnit
from newsroom.units import UnitSpec, units_load
from tests.factories import make_tree, make_user

T = AdministrativeUnit.Type


@pytest.fixture
def tree(db):
    """P (province) → X (district: A, B), Y (district: C); Q is another province (D)."""
    units = make_tree(three_level=True)
    units_load(
        [
            UnitSpec(
                "93",
                "Tỉnh Bên Cạnh",
                T.PROVINCE,
                children=(UnitSpec("93001", "Xã Bên Cạnh", T.COMMUNE),),
            )
        ]
    )
    units["Q"] = AdministrativeUnit.objects.get(code="93")
    units["D"] = AdministrativeUnit.objects.get(code="93001")
    return units


@pytest.fixture
def root(db):
    return make_user("root", is_superuser=True, is_staff=True, email="root@example.vn")


@pytest.fixture
def outbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    return mail.outbox
