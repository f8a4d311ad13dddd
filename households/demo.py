"""Deterministic, realistic demo data for Palopo, fast enough for 100,000 households.

Rows are generated with numpy (one seeded generator) and written in bulk: PostgreSQL's
COPY, SQLite's executemany. History tables are not filled: demo data is the starting state.
"""

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import connection, transaction

from groups.models import (
    Group,
    GroupProblem,
    GroupType,
    KecamatanTarget,
    Kelurahan,
    Opd,
    Target,
    WorkingTeam,
    split_target,
)
from households import figures, register
from households.bulk import bulk_insert
from households.models import Household, IncomeReading, Membership

MALE_NAMES = [
    "Andi", "Muhammad", "Abdul", "Baso", "Ahmad", "Syamsul", "Haerul", "Ridwan", "Hasan",
    "Rahman", "Jufri", "Arifin", "Syahrir", "Darwis", "Nasrun", "Irwan", "Mustafa", "Hamzah",
    "Rusdi", "Sudirman", "Bahtiar", "Asri", "Kamaruddin", "Akbar",
]
FEMALE_NAMES = [
    "Nurhayati", "Sitti", "Hasnah", "Nurlina", "Hamsiah", "Rosmini", "Darmawati", "Marlina",
    "Hasmawati", "Jumriah", "Rahmawati", "Sumarni", "Nurjannah", "Fatmawati", "Kasmawati",
    "Ratna", "Hadijah", "Megawati", "Suriani", "Halimah",
]
FAMILY_NAMES = [
    "Daeng", "Puang", "Karim", "Latif", "Majid", "Ramli", "Salam", "Tahir", "Yusuf", "Said",
    "Rauf", "Hakim", "Saleh", "Amir", "Nur", "Gani", "Basri", "Mappa", "Lallo", "Pawe",
]
GROUP_WORDS = [
    "Melati", "Mawar", "Sipakatau", "Sipakainge", "Bunga Harapan", "Maju Bersama", "Sejahtera",
    "Harapan Baru", "Tunas Muda", "Mekar Sari", "Bahari", "Samudra", "Lestari", "Sinar Luwu",
    "Wija To Luwu", "Sawerigading", "Tomakaka", "Cempaka", "Anggrek", "Kenanga",
]
BUSINESS = {
    "KWT": ["sayur organik", "jahe merah", "cabai", "kebun pekarangan", "jamur tiram"],
    "NELAYAN": ["ikan tangkap", "abon ikan", "rumput laut", "ikan asin", "budidaya bandeng"],
    "UEP": ["kue tradisional", "warung sembako", "jahit pakaian", "kerajinan anyaman", "kopi bubuk"],
}
# Which OPD fosters which kind of group, roughly as at the 2021 coordination meeting.
OPD_TYPES = {
    "DISTAN": "KWT", "DKP": "KWT", "DISKAN": "NELAYAN", "DINSOS": "UEP", "DISDIK": "UEP", "DISKOP": "UEP",
}
KB_METHODS = ["SUNTIK", "PIL", "IMPLAN", "IUD", "KONDOM", "MOW", "MOP", "MAL", "TRADISIONAL", "TIDAK"]
KB_WEIGHTS = [0.36, 0.17, 0.11, 0.08, 0.04, 0.04, 0.01, 0.01, 0.03, 0.15]
PROBLEM_KINDS = ["pasar", "modal", "bahan_baku", "sdm", "lainnya"]
PROBLEM_WEIGHTS = [0.4, 0.25, 0.15, 0.1, 0.1]
PROBLEM_TEXTS = {
    "pasar": "Hasil panen sulit dijual, pembeli hanya tengkulak.",
    "modal": "Anggota belum punya modal untuk menambah produksi.",
    "bahan_baku": "Harga bibit dan pupuk naik.",
    "sdm": "Pengurus belum terbiasa membuat pembukuan.",
    "lainnya": "Jadwal pertemuan kelompok sering bentrok.",
}
OUTSIDE_REGENCIES = ["7317", "7322", "7325", "7371", "7316"]  # Luwu, Luwu Utara, Luwu Timur, Makassar, Enrekang


@dataclass(frozen=True)
class DemoSummary:
    groups: int
    households: int
    memberships: int
    readings: int
    first_month: dt.date
    last_month: dt.date


def month_starts(last: dt.date, count: int) -> list[dt.date]:
    """The ``count`` month starts ending with ``last``'s month, oldest first."""
    index = last.year * 12 + last.month - 1
    return [dt.date((i) // 12, (i) % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def _timestamp(value: dt.datetime) -> str:
    # SQLite keeps naive UTC text; PostgreSQL wants the offset.
    return value.strftime("%Y-%m-%d %H:%M:%S") + ("+00" if connection.vendor == "postgresql" else "")


@transaction.atomic
def seed_demo(*, households: int, months: int, seed: int, last_month: dt.date) -> DemoSummary:
    """Create demo groups, households, memberships and readings; the same arguments always
    give the same data. Refuses to run on a database that already has households."""
    if Household.objects.exists():
        raise ValueError("The database already has households; seed_demo only fills an empty one.")
    rng = np.random.default_rng(seed)
    periods = month_starts(last_month, months)
    kelurahan = list(Kelurahan.objects.order_by("code"))
    types = {t.code: t for t in GroupType.objects.all()}
    opds = list(Opd.objects.filter(code__in=OPD_TYPES).order_by("code"))
    if not kelurahan or not opds or not {"KWT", "NELAYAN", "UEP"} <= types.keys():
        raise ValueError("Master data (areas, OPD, group types) is missing: run migrate first.")

    teams = {opd.code: opd.default_team() for opd in opds}
    second = WorkingTeam.objects.get_or_create(opd=opds[0], name=f"Tim Kerja {opds[0].code} 2")[0]

    # Groups of 10–30 members until every household has one.
    sizes = []
    while sum(sizes) < households:
        sizes.append(int(rng.integers(10, 31)))
    sizes[-1] -= sum(sizes) - households
    if sizes[-1] <= 0:
        sizes.pop()
    groups = []
    for i, _size in enumerate(sizes, start=1):
        opd = opds[int(rng.integers(len(opds)))]
        type_code = OPD_TYPES[opd.code]
        team = second if opd == opds[0] and i % 3 == 0 else teams[opd.code]
        word = GROUP_WORDS[int(rng.integers(len(GROUP_WORDS)))]
        formed = periods[0] - dt.timedelta(days=int(rng.integers(30, 1500)))
        groups.append(
            Group(
                code=f"{type_code}-{i:05d}",
                name=f"{types[type_code].name if type_code != 'UEP' else 'Kelompok UEP'} {word} {i}",
                group_type=types[type_code],
                team=team,
                kelurahan=kelurahan[int(rng.integers(len(kelurahan)))],
                formed_on=formed,
                business=BUSINESS[type_code][int(rng.integers(len(BUSINESS[type_code])))],
            )
        )
    Group.objects.bulk_create(groups, batch_size=2000)
    groups = list(Group.objects.order_by("code"))  # ids, whatever the backend returned
    group_of = np.repeat(np.arange(len(groups)), sizes)

    # Households.
    n = households
    position = {k.id: i for i, k in enumerate(kelurahan)}
    kel_index = np.array([position[g.kelurahan_id] for g in groups])[group_of]
    moved = rng.random(n) < 0.2
    kel_index = np.where(moved, rng.integers(len(kelurahan), size=n), kel_index)
    women = rng.random(n) < 0.45
    first = np.where(
        women,
        np.array(FEMALE_NAMES)[rng.integers(len(FEMALE_NAMES), size=n)],
        np.array(MALE_NAMES)[rng.integers(len(MALE_NAMES), size=n)],
    )
    last = np.array(FAMILY_NAMES)[rng.integers(len(FAMILY_NAMES), size=n)]
    kec_digits = np.array([k.code[6:8] for k in kelurahan])[kel_index]
    regency = np.where(
        rng.random(n) < 0.05, np.array(OUTSIDE_REGENCIES)[rng.integers(len(OUTSIDE_REGENCIES), size=n)], "7373"
    )
    day = rng.integers(1, 29, size=n) + np.where(women, 40, 0)
    month = rng.integers(1, 13, size=n)
    year = rng.integers(60, 100, size=n)
    serial = rng.integers(1, 10000, size=n)
    numbers = np.arange(n)
    frame = pd.DataFrame(
        {
            "kk_number": [f"7373{k}{i + 100000:010d}" for k, i in zip(kec_digits, numbers)],
            "head_nik": [
                f"{r}{k}{d:02d}{m:02d}{y:02d}{s:04d}"
                for r, k, d, m, y, s in zip(regency, kec_digits, day, month, year, serial)
            ],
            "head_name": [f"{a} {b}" for a, b in zip(first, last)],
            "kelurahan_id": np.array([k.id for k in kelurahan])[kel_index],
            "address": [f"Jl. {w} No. {int(x)}" for w, x in zip(
                np.array(GROUP_WORDS)[rng.integers(len(GROUP_WORDS), size=n)], rng.integers(1, 120, size=n)
            )],
            "family_size": 1 + rng.binomial(6, 0.5, size=n),
            "kb_method": rng.choice(KB_METHODS, size=n, p=KB_WEIGHTS),
            "is_active": True,
            "created_at": _timestamp(dt.datetime.combine(periods[0], dt.time(2, 0))),
        }
    )
    bulk_insert(Household, frame)
    ids_by_kk = dict(Household.objects.values_list("kk_number", "id"))
    household_ids = np.array([ids_by_kk[k] for k in frame["kk_number"]])

    # Memberships: everyone in their group, joined mostly inside the window so there are
    # readings before and after; 5% in a second group; 6% left later.
    last_index = months - 1
    join_month = rng.integers(min(3, last_index), max(min(3, last_index) + 1, last_index - 1), size=n)
    early = rng.random(n) < 0.05
    join_month = np.where(early, -int(rng.integers(1, 6)), join_month)
    join_day = rng.integers(1, 29, size=n)
    join_dates = [_month_day(periods[0], j, d) for j, d in zip(join_month, join_day)]
    leaves = (rng.random(n) < 0.06) & (join_month < last_index - 2)
    leave_after = rng.integers(2, 8, size=n)
    left_dates = [
        _month_day(periods[0], min(j + a, last_index), 15) if lv else None
        for j, a, lv in zip(join_month, leave_after, leaves)
    ]
    group_ids = np.array([g.id for g in groups])
    memberships = pd.DataFrame(
        {"household_id": household_ids, "group_id": group_ids[group_of], "joined_on": join_dates, "left_on": left_dates}
    )
    extra = np.flatnonzero(rng.random(n) < 0.05)
    other = (group_of[extra] + rng.integers(1, max(2, len(groups)), size=len(extra))) % len(groups)
    extra, other = extra[other != group_of[extra]], other[other != group_of[extra]]
    extra_join = np.minimum(join_month[extra] + rng.integers(1, 6, size=len(extra)), last_index)
    memberships = pd.concat(
        [
            memberships,
            pd.DataFrame(
                {
                    "household_id": household_ids[extra],
                    "group_id": group_ids[other],
                    "joined_on": [_month_day(periods[0], j, 10) for j in extra_join],
                    "left_on": None,
                }
            ),
        ],
        ignore_index=True,
    )
    bulk_insert(Membership, memberships)

    # Monthly income: a household's own level (Rp 0.5–6 million), ±10% noise, most families
    # earning a little more in the six months after joining; some months never recorded.
    base = np.clip(np.exp(rng.normal(np.log(1_900_000), 0.5, size=n)), 500_000, 6_000_000)
    growth = rng.normal(0.09, 0.12, size=n)
    month_index = np.arange(months)
    since_join = month_index[None, :] - join_month[:, None]
    ramp = np.clip(since_join / 6, 0, 1)
    noise = rng.normal(0, 0.07, size=(n, months))
    amounts = base[:, None] * (1 + growth[:, None] * ramp) * (1 + noise)
    amounts = (np.clip(amounts, 0, None) / 1000).round().astype(np.int64) * 1000
    recorded = rng.random((n, months)) >= 0.07
    left_month = np.array([(d.year - periods[0].year) * 12 + d.month - periods[0].month if d else months for d in left_dates])
    recorded &= month_index[None, :] <= left_month[:, None]
    rows, cols = np.nonzero(recorded)
    period_text = np.array([p.isoformat() for p in periods])
    stamps = np.array([_timestamp(dt.datetime.combine(_next_month(p), dt.time(2, 0))) for p in periods])
    readings = pd.DataFrame(
        {
            "household_id": household_ids[rows],
            "period": period_text[cols],
            "amount": amounts[rows, cols],
            "recorded_at": stamps[cols],
        }
    )
    for start in range(0, len(readings), 500_000):
        bulk_insert(IncomeReading, readings.iloc[start : start + 500_000])

    # Problems for about a third of the groups; market access is the most common.
    problems = []
    for group in groups:
        if rng.random() < 0.33:
            kind = str(rng.choice(PROBLEM_KINDS, p=PROBLEM_WEIGHTS))
            noted = periods[int(rng.integers(len(periods)))] + dt.timedelta(days=int(rng.integers(0, 27)))
            resolved = bool(rng.random() < 0.35)
            problems.append(
                GroupProblem(
                    group=group, kind=kind, description=PROBLEM_TEXTS[kind], noted_on=noted,
                    is_resolved=resolved, resolved_on=noted + dt.timedelta(days=45) if resolved else None,
                )
            )
    GroupProblem.objects.bulk_create(problems)
    _ensure_target(last_month.year)
    figures.rebuild()
    register.follow_methods()
    return DemoSummary(len(groups), n, len(memberships), len(readings), periods[0], periods[-1])


def _ensure_target(year: int) -> None:
    """A target for the demo's year, split over the kecamatan by number of kelurahan."""
    target, created = Target.objects.get_or_create(year=year, defaults={"households": 10_000})
    if not created:
        return
    counts = {}
    for kel in Kelurahan.objects.select_related("kecamatan"):
        counts[kel.kecamatan] = counts.get(kel.kecamatan, 0) + 1
    shares = split_target(target.households, counts)
    KecamatanTarget.objects.bulk_create(
        KecamatanTarget(target=target, kecamatan=kec, households=shares[kec]) for kec in counts
    )


def _month_day(first: dt.date, offset: int, day: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + int(offset)
    return dt.date(index // 12, index % 12 + 1, int(day))


def _next_month(day: dt.date) -> dt.date:
    return _month_day(day, 1, 2)
