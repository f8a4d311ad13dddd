"""Plausible yearly group data (SPEC section 9) for the demo: officers from the members
(mostly acceptor chairs), a business field that fits the group type, capital mostly the
members' own with some KUR and government aid, a few marketing channels, a turnover.

Drawn from a generator of its own so the rest of a seed's demo data stays as it was.
"""

import datetime as dt

import numpy as np
import pandas as pd
from django.utils import timezone

from groups.models import GroupProblem, GroupType
from households.bulk import bulk_insert, db_timestamp
from households.models import CAPITAL_SOURCES, CHANNELS, GroupProfile

FIELDS_BY_TYPE = {
    "KWT": (["PERTANIAN_PETERNAKAN", "OLAHAN_PANGAN", "PERDAGANGAN"], [0.6, 0.3, 0.1]),
    "NELAYAN": (["PERIKANAN", "OLAHAN_PANGAN", "PERDAGANGAN"], [0.65, 0.25, 0.1]),
    "UEP": (["OLAHAN_PANGAN", "KERAJINAN", "PERDAGANGAN", "JASA", "SIMPAN_PINJAM", "LAINNYA"],
            [0.3, 0.2, 0.2, 0.12, 0.13, 0.05]),
}
# Share of groups with capital from each source, and its range in millions of Rupiah.
CAPITAL = {"SENDIRI": (0.95, 1, 10), "KUR_BANK": (0.25, 5, 50), "BANTUAN_PEMERINTAH": (0.4, 2, 25),
           "BAZNAS": (0.08, 1, 5), "KOPERASI": (0.12, 2, 10), "LAINNYA": (0.05, 1, 5)}
CHANNEL_SHARE = {"PASAR_LOKAL": 0.6, "TOKO_KIOS": 0.3, "LANGSUNG": 0.5, "ONLINE": 0.2, "PENGEPUL": 0.3, "LAINNYA": 0.04}
WITH_DATA = {0: 0.85, 1: 0.7}  # share of groups with data this year and last year


def create_profiles(rng, groups, members, household_ids, methods, last_month: dt.date) -> int:
    """Profiles for this year and last (not before the demo's first month's year), bulk
    created without history like the rest of the demo data. ``members`` is demo._Members,
    ``methods`` each household's method in force now."""
    type_codes = dict(GroupType.objects.values_list("id", "code"))
    # Groups with an open market problem mostly sell through one channel: what the dashboard looks for.
    market = set(GroupProblem.objects.filter(kind=GroupProblem.Kind.MARKET, is_resolved=False).values_list("group_id", flat=True))
    order = np.argsort(members.group, kind="stable")
    bounds = np.searchsorted(members.group[order], np.arange(len(groups) + 1))
    profiles = []
    for back in (1, 0):
        year = last_month.year - back
        first, last = np.datetime64(dt.date(year, 1, 1)), np.datetime64(dt.date(year, 12, 31))
        for index, group in enumerate(groups):
            if rng.random() >= WITH_DATA[back]:
                continue
            rows = order[bounds[index]:bounds[index + 1]]
            current = rows[(members.joined[rows] <= last) & (np.isnat(members.left[rows]) | (members.left[rows] >= first))]
            profile = _profile(rng, group, type_codes[group.group_type_id], year, members.household[current],
                               household_ids, methods)
            if group.pk in market and rng.random() < 0.7:
                kept = profile.channels[0]
                for code, name, _label in CHANNELS:
                    setattr(profile, name, code == kept)
            profiles.append(profile)
    _insert(profiles)
    return len(profiles)


def _insert(profiles: list[GroupProfile]) -> None:
    """One bulk insert (COPY or executemany) whatever the number of groups."""
    now = db_timestamp(timezone.now())
    fields = [f for f in GroupProfile._meta.concrete_fields if not f.primary_key]
    frame = pd.DataFrame([[getattr(p, f.attname) for f in fields] for p in profiles], columns=[f.column for f in fields])
    for f in fields:
        if f.get_internal_type() in ("PositiveBigIntegerField", "ForeignKey", "PositiveSmallIntegerField"):
            frame[f.column] = frame[f.column].astype("Int64")  # an empty officer or turnover stays NULL, not 1.0e6
    frame["recorded_at"] = now
    bulk_insert(GroupProfile, frame)


def _profile(rng, group, type_code, year, candidates, household_ids, methods) -> GroupProfile:
    fields, weights = FIELDS_BY_TYPE.get(type_code, FIELDS_BY_TYPE["UEP"])
    profile = GroupProfile(
        group=group, year=year, business_field=str(rng.choice(fields, p=weights)), products=group.business,
        sk_number=f"{int(rng.integers(1, 400))}/SK/UPPKA/{group.formed_on.year}" if rng.random() < 0.8 else "",
        sk_date=group.formed_on + dt.timedelta(days=int(rng.integers(0, 60))) if group.formed_on else None,
        turnover=int(rng.integers(10, 300)) * 100_000 if rng.random() < 0.8 else None,
    )
    if profile.sk_date and profile.sk_date > dt.date(year, 1, 1):
        profile.sk_date = None
    for code, name, _label in CAPITAL_SOURCES:
        share, low, high = CAPITAL[code]
        setattr(profile, name, int(rng.integers(low * 10, high * 10 + 1)) * 100_000 if rng.random() < share else 0)
    chosen = [code for code, _name, _label in CHANNELS if rng.random() < CHANNEL_SHARE[code]] or ["PASAR_LOKAL"]
    for code, name, _label in CHANNELS:
        setattr(profile, name, code in chosen)
    if len(candidates) >= 3:
        acceptors = [c for c in candidates if methods[c] != "TIDAK"]
        chair = acceptors[int(rng.integers(len(acceptors)))] if acceptors and rng.random() < 0.9 else candidates[0]
        others = [c for c in candidates if c != chair]
        secretary, treasurer = rng.choice(others, size=2, replace=False)
        profile.chair_id, profile.secretary_id, profile.treasurer_id = (
            int(household_ids[chair]), int(household_ids[secretary]), int(household_ids[treasurer]))
    return profile
