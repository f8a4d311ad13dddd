"""A group's data by year (SPEC section 9, after BKKBN's K/0/UPPKA): who may be an officer,
whether the chair is an acceptor, last year's answers as a starting point, and the write.

The data is as of 1 January of the year and is corrected in place through the year; the
history (django-simple-history) keeps every version with who changed it.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from groups.models import Group, GroupProblem
from households.models import CHANNELS, OFFICERS, GroupProfile, Household, KbMethod, KbStatus, Membership
from households.parsing import parse_amount
from uppka.months import this_month

FIRST_YEAR = 2000


def parse_rupiah(value) -> int:
    """Capital or turnover as people write it (``Rp 1.250.000``, ``25 jt``): the income
    parser, with messages that do not speak of income."""
    try:
        return parse_amount(value)
    except ValidationError as e:
        messages = {
            "negative": _("Cannot be negative."),
            "fraction": _("In whole Rupiah."),
            "too_large": _("At most Rp 1.000.000.000."),
        }
        if e.code in messages:
            raise ValidationError(messages[e.code], code=e.code) from e
        raise


def current_year() -> int:
    return timezone.localdate().year


def years_open() -> range:
    """The years a profile may be entered for: none in the future."""
    return range(FIRST_YEAR, current_year() + 1)


def officer_candidates(group: Group, year: int):
    """The households that may hold an office in ``year``: members of the group at some
    time in that year (joined by 31 December, not left before 1 January)."""
    memberships = Membership.objects.filter(group=group, joined_on__lte=dt.date(year, 12, 31)).filter(
        Q(left_on__isnull=True) | Q(left_on__gte=dt.date(year, 1, 1))
    )
    return Household.objects.filter(pk__in=memberships.values("household_id")).order_by("head_name", "kk_number")


def method_in_force(household: Household, year: int) -> str:
    """The household's KB method in force in the latest month of ``year`` that has begun
    (its method today when it has no recorded status by then)."""
    month = min(this_month(), dt.date(year, 12, 1))
    status = KbStatus.objects.filter(household=household, period__lte=month).order_by("-period").first()
    return status.method if status else household.kb_method


def chair_is_acceptor(profile: GroupProfile) -> bool | None:
    """None without a chair; BKKBN expects the chair of an acceptors' group to be one."""
    if profile.chair_id is None:
        return None
    return method_in_force(profile.chair, profile.year) != KbMethod.TIDAK


def starting_point(group: Group, year: int) -> tuple[GroupProfile | None, dict]:
    """The profile of ``year`` if there is one; otherwise the latest earlier one's answers
    as initial values (officers only if still members in ``year``), and that profile."""
    earlier = GroupProfile.objects.filter(group=group, year__lt=year).order_by("-year").first()
    if earlier is None:
        return None, {}
    candidates = set(officer_candidates(group, year).filter(
        pk__in=[getattr(earlier, f"{o}_id") for o in OFFICERS if getattr(earlier, f"{o}_id")]
    ).values_list("pk", flat=True))
    initial = {
        name: getattr(earlier, name)
        for name in ("sk_number", "sk_date", "business_field", "products", "turnover",
                     "capital_own", "capital_bank", "capital_government", "capital_baznas",
                     "capital_cooperative", "capital_other")
    }
    initial["channels"] = earlier.channels
    for officer in OFFICERS:
        pk = getattr(earlier, f"{officer}_id")
        initial[officer] = pk if pk in candidates else None
    return earlier, initial


@transaction.atomic
def save_profile(*, group: Group, year: int, values: dict, channels: list[str], by) -> GroupProfile:
    """Create or correct a group's profile for a year; ``values`` are model fields (officers
    as households), ``channels`` the codes chosen. The history records who changed what.
    Saves of one group wait for each other (a lock on the group row): two people saving the
    year's first profile at once both land, the second as a correction, not an error."""
    list(Group.objects.select_for_update().filter(pk=group.pk).values_list("pk", flat=True))
    profile = GroupProfile.objects.select_for_update().filter(group=group, year=year).first() or GroupProfile(
        group=group, year=year
    )
    for name, value in values.items():
        setattr(profile, name, value)
    chosen = set(channels)
    for code, name, _label in CHANNELS:
        setattr(profile, name, code in chosen)
    profile.recorded_by = by
    profile._history_user = by
    profile.save()
    return profile


def profile_card(group: Group, user, year: int | None = None) -> dict:
    """What a group page shows of the group's data: the year's profile (this year's by
    default), whether the chair is an acceptor, the other years entered, and whether the
    user may fill it in (the group's cadres, its OPD and DPPKB: whoever sees the group)."""
    year = year or current_year()
    profiles = list(GroupProfile.objects.filter(group=group).select_related(
        "chair", "secretary", "treasurer", "recorded_by").order_by("-year"))
    profile = next((p for p in profiles if p.year == year), None)
    market_problem = profile is not None and len(profile.channels) <= 1 and group.problems.filter(
        kind=GroupProblem.Kind.MARKET, is_resolved=False).exists()
    return {
        "market_problem": market_problem,
        "profile": profile,
        "profile_year": year,
        "profile_years": [p.year for p in profiles if p.year != year],
        "chair_acceptor": chair_is_acceptor(profile) if profile else None,
        "can_edit_profile": Group.objects.visible_to(user).filter(pk=group.pk).exists(),
    }
