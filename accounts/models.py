from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who logs in. The role decides what they see (SPEC section 2).

    Cadres get their groups through ``Group.cadres`` (``user.assigned_groups``); an OPD user
    belongs to one OPD. An account without a role is a pure administrator (Django admin).
    """

    class Role(models.TextChoices):
        KADER = "kader", _("Cadre")
        OPD = "opd", _("OPD staff")
        DPPKB = "dppkb", _("DPPKB staff")

    role = models.CharField(_("role"), max_length=10, choices=Role.choices, blank=True)
    opd = models.ForeignKey(
        "groups.Opd",
        verbose_name=_("OPD"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(role="opd", opd__isnull=False) | ~Q(role="opd"),
                name="user_opd_role_has_opd",
                violation_error_message=_("An OPD user must belong to an OPD."),
            ),
        ]

    @property
    def is_kader(self) -> bool:
        return self.role == self.Role.KADER

    @property
    def is_opd(self) -> bool:
        return self.role == self.Role.OPD

    @property
    def is_dppkb(self) -> bool:
        return self.role == self.Role.DPPKB
