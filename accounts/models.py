from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from households import signals
from uppka.proxy import client_ip


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

    @property
    def sees_whole_city(self) -> bool:
        """DPPKB staff and administrators see and may change everything, city-wide."""
        return self.is_superuser or self.is_dppkb


class AccessLog(models.Model):
    """Who looked at or took out personal data: household pages, exports, imports."""

    class Action(models.TextChoices):
        VIEW_HOUSEHOLD = signals.VIEW_HOUSEHOLD, _("viewed a household")
        EXPORT_REPORT = "export_report", _("exported the report workbook")
        DOWNLOAD_DATA = signals.DOWNLOAD_DATA, _("downloaded data for editing")
        IMPORT = signals.IMPORT, _("imported a workbook")
        EXPORT_AUDIT = "export_audit", _("downloaded the change history")
        PRINT_REGISTER = signals.PRINT_REGISTER, _("printed a group's monthly register")

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    target = models.CharField(_("what"), max_length=300)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action} {self.target}"

    @classmethod
    def record(cls, request, action: str, target: str) -> "AccessLog":
        return cls.objects.create(
            user=request.user, action=action, target=target[:300], ip_address=client_ip(request)
        )
