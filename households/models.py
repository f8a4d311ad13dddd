"""Households, their group memberships and their monthly income readings."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from groups.models import Group, Kelurahan
from households.identity import mask_nik, validate_kk, validate_nik

MAX_AMOUNT = 1_000_000_000


class KbMethod(models.TextChoices):
    IUD = "IUD", "IUD"
    MOW = "MOW", "MOW"
    MOP = "MOP", "MOP"
    IMPLAN = "IMPLAN", _("Implant")
    SUNTIK = "SUNTIK", _("Injection")
    PIL = "PIL", _("Pill")
    KONDOM = "KONDOM", _("Condom")
    MAL = "MAL", _("Lactational amenorrhoea (MAL)")
    TRADISIONAL = "TRADISIONAL", _("Traditional")
    TIDAK = "TIDAK", _("None (not an acceptor)")


class HouseholdQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def visible_to(self, user):
        """Households with a membership in a group the user may see; DPPKB sees all."""
        if user.is_authenticated and user.sees_whole_city:
            return self.all()
        groups = Group.objects.visible_to(user)
        return self.filter(
            Exists(Membership.objects.filter(household=OuterRef("pk"), group__in=groups))
        )

    def editable_by(self, user):
        if user.is_authenticated and user.sees_whole_city:
            return self.all()
        groups = Group.objects.editable_by(user)
        return self.filter(
            Exists(Membership.objects.filter(household=OuterRef("pk"), group__in=groups))
        )


class Household(models.Model):
    """A family (keluarga), identified by its family card (KK) number."""

    kk_number = models.CharField(_("KK number"), max_length=16, unique=True, validators=[validate_kk])
    head_nik = models.CharField(_("head's NIK"), max_length=16, validators=[validate_nik])
    head_name = models.CharField(_("head's name"), max_length=200)
    kelurahan = models.ForeignKey(
        Kelurahan, verbose_name=_("kelurahan"), on_delete=models.PROTECT, related_name="households"
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    family_size = models.PositiveSmallIntegerField(
        _("family size"), validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    kb_method = models.CharField(_("family-planning method"), max_length=12, choices=KbMethod.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = HouseholdQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["head_name", "kk_number"]
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [
            models.CheckConstraint(condition=Q(kk_number__regex=r"^[0-9]{16}$"), name="household_kk_16_digits"),
            models.CheckConstraint(condition=Q(head_nik__regex=r"^[0-9]{16}$"), name="household_nik_16_digits"),
            models.CheckConstraint(condition=Q(family_size__gte=1), name="household_family_size_positive"),
            models.CheckConstraint(
                condition=Q(kb_method__in=KbMethod.values), name="household_kb_method_known"
            ),
        ]

    def __str__(self):
        return f"{self.head_name} ({self.kk_number})"

    @property
    def is_acceptor(self) -> bool:
        return self.kb_method != KbMethod.TIDAK

    @property
    def masked_nik(self) -> str:
        return mask_nik(self.head_nik)

    def nik_for(self, user) -> str:
        """The NIK as this user may see it: whole for DPPKB, the last four digits otherwise."""
        if user.sees_whole_city:
            return self.head_nik
        return self.masked_nik


class MembershipQuerySet(models.QuerySet):
    def active_on(self, day):
        """Memberships that had begun on ``day`` and not ended on or before it."""
        return self.filter(joined_on__lte=day).filter(Q(left_on__isnull=True) | Q(left_on__gt=day))

    def visible_to(self, user):
        return self.filter(group__in=Group.objects.visible_to(user))


class Membership(models.Model):
    """A household in a group from ``joined_on`` until ``left_on`` (if it left).

    One row per household and group: importing keys memberships by (KK, group code), and a
    family that rejoins has its ``left_on`` cleared, with the change kept in the history.
    """

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="memberships"
    )
    group = models.ForeignKey(Group, verbose_name=_("group"), on_delete=models.PROTECT, related_name="memberships")
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)

    objects = MembershipQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["group__code", "household__head_name"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["household", "group"],
                name="membership_once_per_group",
                violation_error_message=_("This household is already a member of this group."),
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="membership_leaves_after_joining",
                violation_error_message=_("A household cannot leave before it joined."),
            ),
        ]

    def __str__(self):
        return f"{self.household} @ {self.group.code}"


class IncomeReadingQuerySet(models.QuerySet):
    def between(self, first, last):
        """Readings whose period lies in [first, last]."""
        return self.filter(period__gte=first, period__lte=last)

    def visible_to(self, user):
        return self.filter(household__in=Household.objects.visible_to(user))


class IncomeReading(models.Model):
    """A household's income for one calendar month, in whole Rupiah.

    ``period`` is the first day of the month. Corrections update the row; the history keeps
    every earlier value with who changed it and when.
    """

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="readings"
    )
    period = models.DateField(_("month"))
    amount = models.BigIntegerField(
        _("income (Rp)"), validators=[MinValueValidator(0), MaxValueValidator(MAX_AMOUNT)]
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now=True)

    objects = IncomeReadingQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["household", "-period"]
        verbose_name = _("income reading")
        verbose_name_plural = _("income readings")
        constraints = [
            models.UniqueConstraint(
                fields=["household", "period"],
                name="one_reading_per_household_month",
                violation_error_message=_("This household already has an income for this month."),
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(amount__lte=MAX_AMOUNT),
                name="reading_amount_in_range",
                violation_error_message=_("Income must be between Rp 0 and Rp 1.000.000.000."),
            ),
            models.CheckConstraint(
                condition=Q(period__day=1),
                name="reading_period_first_of_month",
                violation_error_message=_("The month must be stored as its first day."),
            ),
        ]
        indexes = [
            # Who reported a month (reporting completeness) straight from the index.
            models.Index(fields=["period", "household"], name="reading_period_household_idx"),
            # PostgreSQL only (SQLite skips it): the before/after query reads each
            # household's latest readings straight from this index (reports/queries.py).
            models.Index(fields=["household", "period"], include=["amount"], name="reading_covering_idx"),
        ]

    def __str__(self):
        return f"{self.household_id} {self.period:%Y-%m}: {self.amount}"


class ClosedMonthQuerySet(models.QuerySet):
    def is_closed(self, period) -> bool:
        return self.filter(period=period).exists()


class ClosedMonth(models.Model):
    """A month DPPKB has closed: BKKBN's monthly register is due by the 3rd of the next
    month. Cadres cannot change a closed month; reopening deletes the row, and the history
    keeps who closed and reopened it, and when."""

    period = models.DateField(_("month"), unique=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("closed by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed at"), auto_now_add=True)

    objects = ClosedMonthQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-period"]
        verbose_name = _("closed month")
        verbose_name_plural = _("closed months")
        constraints = [
            models.CheckConstraint(condition=Q(period__day=1), name="closed_month_first_day"),
        ]

    def __str__(self):
        return f"{self.period:%Y-%m}"


class MemberFigures(models.Model):
    """Everything the figures of SPEC section 4 need about one membership, kept so that a
    page aggregates one narrow table instead of joining memberships, groups, households
    and readings: the membership's scopes (group, OPD, type, the household's kelurahan and
    kecamatan), dates, family size, whether the family is an acceptor, how many memberships
    the household has, and the sum, count and latest month of the latest (up to) three
    readings before the membership's join month and of the latest three after it.

    Derived data, never edited: ``households/figures.py`` rewrites a household's rows in the
    same transaction as every write that can change them, and ``rebuild_figures`` rewrites
    them all. The "after" side has no upper month, so the rows are the figures as of any
    month on or after the latest reading; reports read them through ``reports/engine.py``.
    """

    # No database constraints (derived data): a restore of a backup made before this table
    # existed can drop and recreate the tables it references (see accounts' restore).
    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, primary_key=True, related_name="+", db_constraint=False
    )
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    # Scope ids copied from the group and the household (no foreign keys: derived data).
    group_id = models.IntegerField(db_index=True)
    opd_id = models.IntegerField()
    type_id = models.IntegerField()
    kelurahan_id = models.IntegerField()
    kecamatan_id = models.IntegerField()
    joined_on = models.DateField()
    left_on = models.DateField(null=True)
    family_size = models.SmallIntegerField()
    acceptor = models.BooleanField()
    memberships = models.SmallIntegerField()  # of the household, in every group
    before_sum = models.BigIntegerField()
    before_count = models.SmallIntegerField()
    before_last = models.DateField(null=True)
    after_sum = models.BigIntegerField()
    after_count = models.SmallIntegerField()
    after_last = models.DateField(null=True)
    # The means ×6 (6 is divisible by 1, 2 and 3, so they stay whole numbers), and whether
    # the membership is paired (a reading on each side): what the pages aggregate.
    paired = models.SmallIntegerField()
    before6 = models.BigIntegerField(null=True)
    after6 = models.BigIntegerField(null=True)
    change6 = models.BigIntegerField(null=True)

    def __str__(self):
        return f"{self.membership_id}"


# The monthly group register (SPEC section 8, after BKKBN's R/I/UPPKA): meetings, who
# attended, each household's family-planning method over time, and the month's report.

MKJP_METHODS = (KbMethod.IUD, KbMethod.IMPLAN, KbMethod.MOW, KbMethod.MOP)


class KbReason(models.TextChoices):
    """Why a household uses no method (BKKBN's unmet-need categories)."""

    HAMIL = "HAMIL", _("Pregnant")
    IAS = "IAS", _("Wants a child soon (IAS)")
    IAT = "IAT", _("Wants to delay a child (IAT)")
    TIAL = "TIAL", _("Wants no more children (TIAL)")
    LAINNYA = "LAINNYA", _("Other reason")


class KbStatusQuerySet(models.QuerySet):
    def in_force(self, period):
        """Each household's status in force in ``period``: its latest from that month or before."""
        latest = self.filter(household=OuterRef("household"), period__lte=period).order_by("-period").values("pk")[:1]
        return self.filter(period__lte=period, pk=models.Subquery(latest))


class KbStatus(models.Model):
    """A household's family-planning method from ``period`` (a first of month) on, until its
    next status. ``Household.kb_method`` is the method in force now, kept equal to the
    latest status by households.register.record_kb_status."""

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="kb_statuses"
    )
    period = models.DateField(_("from month"))
    method = models.CharField(_("family-planning method"), max_length=12, choices=KbMethod.choices)
    reason = models.CharField(_("reason (no method)"), max_length=8, choices=KbReason.choices, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now=True)

    objects = KbStatusQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["household", "-period"]
        verbose_name = _("family-planning status")
        verbose_name_plural = _("family-planning statuses")
        constraints = [
            models.UniqueConstraint(
                fields=["household", "period"], name="one_kb_status_per_household_month",
                violation_error_message=_("This household already has a family-planning status for this month."),
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="kb_status_period_first_of_month"),
            models.CheckConstraint(condition=Q(method__in=KbMethod.values), name="kb_status_method_known"),
            models.CheckConstraint(
                condition=(Q(method=KbMethod.TIDAK) & Q(reason__in=KbReason.values)) | (~Q(method=KbMethod.TIDAK) & Q(reason="")),
                name="kb_status_reason_iff_no_method",
                violation_error_message=_("A reason is given exactly when the household uses no method."),
            ),
        ]

    def __str__(self):
        return f"{self.household_id} {self.period:%Y-%m}: {self.method}"


class MeetingMode(models.TextChoices):
    TATAP_MUKA = "TATAP_MUKA", _("Face to face")
    VIRTUAL = "VIRTUAL", _("Virtual")


class Meeting(models.Model):
    """A group's counselling meeting (pertemuan penyuluhan) and the member households present."""

    group = models.ForeignKey(Group, verbose_name=_("group"), on_delete=models.PROTECT, related_name="meetings")
    held_on = models.DateField(_("date"))
    mode = models.CharField(_("mode"), max_length=10, choices=MeetingMode.choices, default=MeetingMode.TATAP_MUKA)
    topic = models.CharField(_("topic"), max_length=200)
    attendees = models.ManyToManyField(
        Household, verbose_name=_("present"), related_name="meetings_attended", blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now=True)

    history = HistoricalRecords(m2m_fields=[attendees])

    class Meta:
        ordering = ["group", "held_on"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        constraints = [
            models.UniqueConstraint(
                fields=["group", "held_on"], name="one_meeting_per_group_day",
                violation_error_message=_("This group already has a meeting on this day."),
            ),
            models.CheckConstraint(condition=Q(mode__in=MeetingMode.values), name="meeting_mode_known"),
        ]

    def __str__(self):
        return f"{self.group_id} {self.held_on:%Y-%m-%d}"


class MonthlyReport(models.Model):
    """A group's register for a month, submitted by its cadre (or DPPKB). Late when
    submitted after the 3rd of the next month."""

    group = models.ForeignKey(Group, verbose_name=_("group"), on_delete=models.PROTECT, related_name="monthly_reports")
    period = models.DateField(_("month"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"))

    history = HistoricalRecords()

    class Meta:
        ordering = ["-period", "group"]
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        constraints = [
            models.UniqueConstraint(fields=["group", "period"], name="one_report_per_group_month"),
            models.CheckConstraint(condition=Q(period__day=1), name="report_period_first_of_month"),
        ]

    def __str__(self):
        return f"{self.group_id} {self.period:%Y-%m}"


# A group's data by year (SPEC section 9, after BKKBN's K/0/UPPKA): officers, business,
# capital by source, marketing channels, turnover. Codes and their order are the contract
# of the Data Kelompok sheet.


class BusinessField(models.TextChoices):
    OLAHAN_PANGAN = "OLAHAN_PANGAN", _("Food processing")
    KERAJINAN = "KERAJINAN", _("Crafts")
    PERDAGANGAN = "PERDAGANGAN", _("Trade")
    PERTANIAN_PETERNAKAN = "PERTANIAN_PETERNAKAN", _("Farming and livestock")
    PERIKANAN = "PERIKANAN", _("Fisheries")
    JASA = "JASA", _("Services")
    SIMPAN_PINJAM = "SIMPAN_PINJAM", _("Savings and loans")
    LAINNYA = "LAINNYA", _("Other")


# (code, model field, label): capital by source and marketing channels, in SPEC order.
CAPITAL_SOURCES = [
    ("SENDIRI", "capital_own", _("Members' own")),
    ("KUR_BANK", "capital_bank", _("KUR / bank loan")),
    ("BANTUAN_PEMERINTAH", "capital_government", _("Government aid")),
    ("BAZNAS", "capital_baznas", "BAZNAS"),
    ("KOPERASI", "capital_cooperative", _("Cooperative")),
    ("LAINNYA", "capital_other", _("Other sources")),
]
CHANNELS = [
    ("PASAR_LOKAL", "sells_local_market", _("Local market")),
    ("TOKO_KIOS", "sells_shops", _("Shops and kiosks")),
    ("LANGSUNG", "sells_direct", _("Directly to consumers")),
    ("ONLINE", "sells_online", _("Online")),
    ("PENGEPUL", "sells_traders", _("Traders (pengepul)")),
    ("LAINNYA", "sells_other", _("Other channels")),
]
OFFICERS = ["chair", "secretary", "treasurer"]


class GroupProfileQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(group__in=Group.objects.visible_to(user))


class GroupProfile(models.Model):
    """A group's yearly data, as of 1 January of ``year``; corrected in place through the
    year, every version kept in the history."""

    group = models.ForeignKey(Group, verbose_name=_("group"), on_delete=models.PROTECT, related_name="profiles")
    year = models.PositiveSmallIntegerField(_("year"))
    sk_number = models.CharField(_("decree (SK) number"), max_length=100, blank=True)
    sk_date = models.DateField(_("decree (SK) date"), null=True, blank=True)
    chair = models.ForeignKey(
        Household, verbose_name=_("chair"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    secretary = models.ForeignKey(
        Household, verbose_name=_("secretary"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    treasurer = models.ForeignKey(
        Household, verbose_name=_("treasurer"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    business_field = models.CharField(_("business field"), max_length=24, choices=BusinessField.choices)
    products = models.CharField(_("products"), max_length=300, blank=True)
    capital_own = models.PositiveBigIntegerField(_("capital: members' own"), default=0)
    capital_bank = models.PositiveBigIntegerField(_("capital: KUR / bank loan"), default=0)
    capital_government = models.PositiveBigIntegerField(_("capital: government aid"), default=0)
    capital_baznas = models.PositiveBigIntegerField(_("capital: BAZNAS"), default=0)
    capital_cooperative = models.PositiveBigIntegerField(_("capital: cooperative"), default=0)
    capital_other = models.PositiveBigIntegerField(_("capital: other sources"), default=0)
    sells_local_market = models.BooleanField(_("sells at the local market"), default=False)
    sells_shops = models.BooleanField(_("sells through shops and kiosks"), default=False)
    sells_direct = models.BooleanField(_("sells directly to consumers"), default=False)
    sells_online = models.BooleanField(_("sells online"), default=False)
    sells_traders = models.BooleanField(_("sells to traders (pengepul)"), default=False)
    sells_other = models.BooleanField(_("sells through other channels"), default=False)
    turnover = models.PositiveBigIntegerField(_("average monthly turnover"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now=True)

    objects = GroupProfileQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["group", "-year"]
        verbose_name = _("group data by year")
        verbose_name_plural = _("group data by year")
        constraints = [
            models.UniqueConstraint(
                fields=["group", "year"], name="one_profile_per_group_year",
                violation_error_message=_("This group already has its data for this year."),
            ),
            models.CheckConstraint(condition=Q(year__gte=2000) & Q(year__lte=2100), name="profile_year_plausible"),
            models.CheckConstraint(
                condition=Q(business_field__in=BusinessField.values), name="profile_business_field_known"
            ),
        ]

    def __str__(self):
        return f"{self.group_id} {self.year}"

    @property
    def channels(self) -> list[str]:
        """The marketing channels' codes, in SPEC order."""
        return [code for code, name, _label in CHANNELS if getattr(self, name)]

    @property
    def channel_labels(self) -> list[str]:
        return [str(label) for _code, name, label in CHANNELS if getattr(self, name)]

    @property
    def capital(self) -> list[tuple[str, str, int]]:
        """(code, label, Rupiah) per source, in SPEC order."""
        return [(code, str(label), getattr(self, name)) for code, name, label in CAPITAL_SOURCES]

    @property
    def capital_total(self) -> int:
        return sum(getattr(self, name) for _code, name, _label in CAPITAL_SOURCES)
