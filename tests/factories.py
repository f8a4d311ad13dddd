"""Small factory functions with sensible defaults for the tests."""

import datetime as dt
import itertools

from accounts.models import User
from groups.models import Group, GroupType, Kelurahan, Opd
from households.models import Household, IncomeReading, KbMethod, Membership

_counter = itertools.count(1)


def make_user(*, role="kader", opd=None, groups=(), username=None, **extra) -> User:
    user = User.objects.create_user(
        username=username or f"user{next(_counter)}", password="test-pass-123", role=role, opd=opd, **extra
    )
    for group in groups:
        group.cadres.add(user)
    return user


def make_group(*, opd_code="DISTAN", type_code="KWT", code=None, kelurahan=None, **extra) -> Group:
    n = next(_counter)
    opd = Opd.objects.get(code=opd_code)
    return Group.objects.create(
        code=code or f"G-{n:04d}",
        name=extra.pop("name", f"Kelompok Uji {n}"),
        group_type=GroupType.objects.get(code=type_code),
        team=opd.default_team(),
        kelurahan=kelurahan or Kelurahan.objects.order_by("code").first(),
        formed_on=dt.date(2020, 1, 1),
        **extra,
    )


def valid_nik(n: int, regency: str = "7373") -> str:
    """A structurally valid NIK: district 01, born 15-06-80, serial n."""
    return f"{regency}01150680{n % 10000 or 1:04d}"


def make_household(*, kk=None, nik=None, kb_method=KbMethod.SUNTIK, family_size=4, **extra) -> Household:
    n = next(_counter)
    return Household.objects.create(
        kk_number=f"737301{n:010d}" if kk is None else kk,
        head_nik=valid_nik(n) if nik is None else nik,
        head_name=extra.pop("head_name", f"Kepala Keluarga {n}"),
        kelurahan=extra.pop("kelurahan", None) or Kelurahan.objects.order_by("code").first(),
        family_size=family_size,
        kb_method=kb_method,
        **extra,
    )


def make_member(group: Group, *, joined_on=dt.date(2024, 1, 10), left_on=None, **household) -> Membership:
    return Membership.objects.create(
        household=make_household(**household), group=group, joined_on=joined_on, left_on=left_on
    )


def make_reading(household: Household, period: dt.date, amount: int) -> IncomeReading:
    return IncomeReading.objects.create(household=household, period=period, amount=amount)
