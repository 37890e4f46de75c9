"""The administrative tree, the roles held in it and the levels of the approval chain."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node
from wagtail.admin.panels import FieldPanel


class AdministrativeUnit(MP_Node):
    """A node of the administrative tree: province, (district,) commune — any depth.

    ``path`` (from treebeard) makes "this unit and everything under it" one indexed
    ``startswith`` filter, which is what every permission and listing asks.
    """

    class Type(models.TextChoices):
        PROVINCE = "province", _("Province")
        DISTRICT = "district", _("District")
        COMMUNE = "commune", _("Commune")

    code = models.CharField(_("official code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=255)
    division_type = models.CharField(
        _("division type"), max_length=64, blank=True, help_text=_("e.g. phường, xã, đặc khu")
    )
    unit_type = models.CharField(_("level"), max_length=16, choices=Type.choices)
    is_active = models.BooleanField(_("active"), default=True)

    node_order_by = ["code"]

    def __str__(self) -> str:
        return self.name

    def ancestors_and_self(self):
        """This unit and its ancestors, from the province down (one query)."""
        paths = [self.path[: i * self.steplen] for i in range(1, self.depth + 1)]
        return AdministrativeUnit.objects.filter(path__in=paths).order_by("depth")

    def subtree_q(self, prefix: str = "") -> models.Q:
        """A Q object selecting rows whose unit is in this unit's subtree."""
        return models.Q(**{f"{prefix}path__startswith": self.path})

    class Meta:
        verbose_name = _("administrative unit")
        verbose_name_plural = _("administrative units")


class Role(models.TextChoices):
    REPORTER = "reporter", _("Reporter")
    APPROVER = "approver", _("Approver")
    SCHEDULER = "scheduler", _("Broadcast scheduler")
    UNIT_ADMIN = "unit_admin", _("Unit administrator")
    EDITORIAL_BOARD = "editorial_board", _("Provincial editorial board")


class StepLevel(models.TextChoices):
    """Levels of the approval chain: the three unit levels, then the provincial board."""

    COMMUNE = "commune", _("Commune")
    DISTRICT = "district", _("District")
    PROVINCE = "province", _("Province")
    BOARD = "board", _("Provincial editorial board")


class Membership(models.Model):
    """A user holds a role at a unit; the role applies to the unit's whole subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    unit = models.ForeignKey(
        AdministrativeUnit, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    panels = [FieldPanel("user"), FieldPanel("unit"), FieldPanel("role")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.unit}"

    def clean(self):
        super().clean()
        unit = getattr(self, "unit", None) if self.unit_id else None
        if (
            self.role == Role.EDITORIAL_BOARD
            and unit is not None
            and unit.unit_type != AdministrativeUnit.Type.PROVINCE
        ):
            raise ValidationError({"role": _("The editorial board role is held at a province.")})

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="unique_membership")
        ]
