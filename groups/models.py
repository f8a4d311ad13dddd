"""Master data: areas, OPD and their working teams, group types, groups and their problems,
targets and poverty lines."""

import datetime as dt

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Kecamatan(models.Model):
    code = models.CharField(_("code"), max_length=8, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("district (kecamatan)")
        verbose_name_plural = _("districts (kecamatan)")

    def __str__(self):
        return self.name


class Kelurahan(models.Model):
    code = models.CharField(_("code"), max_length=13, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kecamatan = models.ForeignKey(
        Kecamatan, verbose_name=_("district"), on_delete=models.PROTECT, related_name="kelurahan"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("village (kelurahan)")
        verbose_name_plural = _("villages (kelurahan)")

    def __str__(self):
        return self.name


class Opd(models.Model):
    """A regional agency (Organisasi Perangkat Daerah) that fosters groups."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    head = models.CharField(_("head"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("OPD")
        verbose_name_plural = _("OPD")

    def __str__(self):
        return f"{self.code} – {self.name}"

    def default_team(self) -> "WorkingTeam":
        """The team a group falls under when nobody named one; created on first use."""
        team, _created = WorkingTeam.objects.get_or_create(
            opd=self, is_default=True, defaults={"name": f"Tim Kerja {self.code}"}
        )
        return team


class WorkingTeam(models.Model):
    """A tim kerja through which an OPD fosters its groups."""

    name = models.CharField(_("name"), max_length=200)
    opd = models.ForeignKey(Opd, verbose_name=_("OPD"), on_delete=models.PROTECT, related_name="teams")
    is_default = models.BooleanField(_("default team of the OPD"), default=False)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), blank=True, related_name="teams"
    )

    class Meta:
        ordering = ["opd__code", "name"]
        verbose_name = _("working team")
        verbose_name_plural = _("working teams")
        constraints = [
            models.UniqueConstraint(fields=["opd", "name"], name="team_name_unique_in_opd"),
            models.UniqueConstraint(
                fields=["opd"], condition=Q(is_default=True), name="one_default_team_per_opd"
            ),
        ]

    def __str__(self):
        return self.name


class GroupType(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["code"]
        verbose_name = _("group type")
        verbose_name_plural = _("group types")

    def __str__(self):
        return f"{self.code} – {self.name}"


class GroupQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def active_on(self, day):
        """The groups active at the end of ``day`` (Asia/Makassar), as their history records
        it: a group deactivated since still counts in the months it was active. Before its
        first record (a group created later, with members imported from earlier) a group
        counts as first recorded; without any history (loaded in bulk), as it is now."""
        end = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
        history = Group.history.filter(id=models.OuterRef("pk"))
        then = history.filter(history_date__lt=end).order_by("-history_date", "-history_id").values("is_active")[:1]
        first = history.order_by("history_date", "history_id").values("is_active")[:1]
        return self.alias(
            active_then=Coalesce(models.Subquery(then), models.Subquery(first), models.F("is_active"))
        ).filter(active_then=True)

    def visible_to(self, user):
        """The groups a user may see: all for DPPKB and administrators, their OPD's for an
        OPD user, their assigned groups for a cadre, none for anyone else."""
        if not user.is_authenticated:
            return self.none()
        if user.sees_whole_city:
            return self.all()
        if user.is_opd and user.opd_id:
            return self.filter(team__opd_id=user.opd_id)
        if user.is_kader:
            return self.filter(cadres=user)
        return self.none()

    def editable_by(self, user):
        """Groups whose households and income a user may change: cadres their own groups,
        DPPKB all; OPD users read only."""
        if not user.is_authenticated:
            return self.none()
        if user.sees_whole_city:
            return self.all()
        if user.is_kader:
            return self.filter(cadres=user)
        return self.none()


# A group code is part of addresses (/kelompok/<code>/) and file names: no "/", quotes or spaces.
validate_group_code = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z",
    _("Use letters, digits, dots, hyphens and underscores only, for example KWT-0001."),
)


class Group(models.Model):
    """A UPPKA group (kelompok), fostered by one working team and so by its OPD."""

    code = models.CharField(_("group code"), max_length=30, unique=True, validators=[validate_group_code])
    name = models.CharField(_("group name"), max_length=200)
    group_type = models.ForeignKey(
        GroupType, verbose_name=_("group type"), on_delete=models.PROTECT, related_name="groups"
    )
    team = models.ForeignKey(
        WorkingTeam, verbose_name=_("working team"), on_delete=models.PROTECT, related_name="groups"
    )
    kelurahan = models.ForeignKey(
        Kelurahan, verbose_name=_("kelurahan"), on_delete=models.PROTECT, related_name="groups"
    )
    formed_on = models.DateField(_("date formed"), null=True, blank=True)
    business = models.CharField(_("business"), max_length=200, blank=True)
    cadres = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned cadres"),
        blank=True,
        related_name="assigned_groups",
        limit_choices_to={"role": "kader"},
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = GroupQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["cadres"])

    class Meta:
        ordering = ["code"]
        verbose_name = _("group")
        verbose_name_plural = _("groups")

    def __str__(self):
        return f"{self.code} – {self.name}"


class GroupProblem(models.Model):
    """A dated problem (kendala) a group faces; market access was the first one named."""

    class Kind(models.TextChoices):
        MARKET = "pasar", _("Market access")
        CAPITAL = "modal", _("Capital")
        MATERIALS = "bahan_baku", _("Raw materials")
        PEOPLE = "sdm", _("Human resources")
        OTHER = "lainnya", _("Other")

    group = models.ForeignKey(Group, verbose_name=_("group"), on_delete=models.PROTECT, related_name="problems")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    description = models.TextField(_("description"), blank=True)
    noted_on = models.DateField(_("date"))
    noted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("noted by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    is_resolved = models.BooleanField(_("resolved"), default=False)
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-noted_on", "-id"]
        verbose_name = _("group problem")
        verbose_name_plural = _("group problems")

    def __str__(self):
        return f"{self.group.code}: {self.get_kind_display()}"


class Target(models.Model):
    """The number of acceptor households to reach in UPPKA groups in a year."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    households = models.PositiveIntegerField(_("acceptor households"), validators=[MinValueValidator(1)])

    history = HistoricalRecords()

    class Meta:
        ordering = ["-year"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.CheckConstraint(condition=Q(households__gte=1), name="target_households_positive"),
        ]

    def __str__(self):
        return f"{self.year}: {self.households}"


def split_target(total: int, weights: dict) -> dict:
    """Split a whole number in proportion to weights so that the parts add up to it:
    each part rounded down, the rest given to the largest remainders (ties by order).

    >>> split_target(10, {"a": 1, "b": 1, "c": 1})
    {'a': 4, 'b': 3, 'c': 3}
    """
    weight = sum(weights.values())
    if not weight:
        return {key: 0 for key in weights}
    parts = {key: total * w // weight for key, w in weights.items()}
    by_remainder = sorted(weights, key=lambda key: -(total * weights[key] % weight))
    for key in by_remainder[: total - sum(parts.values())]:
        parts[key] += 1
    return parts


class KecamatanTarget(models.Model):
    target = models.ForeignKey(Target, verbose_name=_("target"), on_delete=models.CASCADE, related_name="splits")
    kecamatan = models.ForeignKey(Kecamatan, verbose_name=_("district"), on_delete=models.PROTECT)
    households = models.PositiveIntegerField(_("acceptor households"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("target per district")
        verbose_name_plural = _("targets per district")
        constraints = [
            models.UniqueConstraint(fields=["target", "kecamatan"], name="one_split_per_kecamatan"),
        ]

    def __str__(self):
        return f"{self.target.year} {self.kecamatan}: {self.households}"


class PovertyLineQuerySet(models.QuerySet):
    def in_force_on(self, day):
        """The latest line dated on or before ``day``, or None."""
        return self.filter(valid_from__lte=day).order_by("-valid_from").first()


class PovertyLine(models.Model):
    """BPS's poverty line, Rupiah per person per month, in force from a date."""

    valid_from = models.DateField(_("valid from"), unique=True)
    amount = models.PositiveBigIntegerField(_("Rupiah per person per month"))
    source = models.CharField(_("source"), max_length=200, blank=True)

    objects = PovertyLineQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-valid_from"]
        verbose_name = _("poverty line")
        verbose_name_plural = _("poverty lines")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="poverty_line_positive"),
        ]

    def __str__(self):
        return f"{self.valid_from}: {self.amount}"
