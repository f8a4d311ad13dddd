"""Deterministic, realistic demo data for Palopo, fast enough for 100,000 households.

Rows are generated with numpy (one seeded generator) and written in bulk: PostgreSQL's
COPY, SQLite's executemany. History tables are not filled: demo data is the starting state.
The monthly register (SPEC section 8: family-planning statuses, meetings and attendance,
monthly reports) draws from generators spawned from the same seed, so adding it left the
groups, households and incomes of a seed as they were (all but the method in force).
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
from households import demo_profiles, figures, register
from households.bulk import bulk_insert
from households.models import Household, IncomeReading, KbStatus, Meeting, Membership, MonthlyReport

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
# About 80 % acceptors, a quarter of them on a long-acting method (MKJP: IUD, implant, MOW,
# MOP); injections and the pill the most common, as in Palopo's reports.
KB_WEIGHTS = [0.34, 0.17, 0.095, 0.07, 0.04, 0.03, 0.005, 0.01, 0.04, 0.20]
KB_REASONS = ["HAMIL", "IAS", "IAT", "TIAL", "LAINNYA"]
REASON_WEIGHTS = [0.15, 0.20, 0.20, 0.30, 0.15]  # of a household without a method when it joins
STOP_REASON_WEIGHTS = [0.45, 0.20, 0.15, 0.10, 0.10]  # of an acceptor who stops: mostly a pregnancy
KB_CHANGES = [0.90, 0.08, 0.02]  # households with no, one or two changes of method over the period
STOP_SHARE = 0.3  # of the acceptors' changes: stopping any method
MEETINGS_A_MONTH = [0.10, 0.55, 0.35]  # a group-month with no meeting, one, two
VIRTUAL_SHARE = 0.15
TOPICS = [
    "Penyuluhan KB dan kesehatan reproduksi",
    "Pencatatan keuangan usaha",
    "Pemasaran produk",
    "Pengemasan produk",
    "Akses permodalan KUR",
    "Gizi keluarga dan stunting",
    "Pembinaan ketahanan keluarga",
    "Arisan dan simpan pinjam kelompok",
]
ATTENDANCE = (7.8, 2.2)  # Beta: each family's chance of attending, 78 % on average
REPORT_MISSING = (2.0, 18.0)  # Beta per group: its share of months never reported (10 % on average)
REPORT_LATE = (2.0, 18.0)  # and of months reported after the 3rd of the next month (10 %)
GROUP_CHUNK = 2000  # groups per batch of meetings and attendance: memory stays flat at any size
WITA = np.timedelta64(8, "h")  # Asia/Makassar is UTC+8, no summer time
PROBLEM_KINDS = ["pasar", "modal", "bahan_baku", "sdm", "lainnya"]
PROBLEM_WEIGHTS = [0.4, 0.25, 0.15, 0.1, 0.1]
PROBLEM_TEXTS = {
    "pasar": "Hasil panen sulit dijual, pembeli hanya tengkulak.",
    "modal": "Anggota belum punya modal untuk menambah produksi.",
    "bahan_baku": "Harga bibit dan pupuk naik.",
    "sdm": "Pengurus belum terbiasa membuat pembukuan.",
    "lainnya": "Jadwal pertemuan kelompok sering bentrok.",
}
OUTSIDE_REGENCIES = ["7317", "7322", "7324", "7371", "7316"]  # Luwu, Luwu Utara, Luwu Timur, Makassar, Enrekang


@dataclass(frozen=True)
class DemoSummary:
    groups: int
    households: int
    memberships: int
    readings: int
    first_month: dt.date
    last_month: dt.date
    kb_statuses: int = 0
    meetings: int = 0
    attendances: int = 0
    reports: int = 0
    profiles: int = 0


@dataclass(frozen=True)
class _Members:
    """Every membership drawn, primary ones first: household and group as indexes into the
    demo's lists, dates as numpy days (``left`` NaT while still a member)."""

    household: np.ndarray
    group: np.ndarray
    joined: np.ndarray
    left: np.ndarray
    join_month: np.ndarray  # of each household's primary membership, from the first demo month
    left_dates: list  # of the primary memberships, None while still a member


@dataclass(frozen=True)
class _KbPlan:
    """Family-planning statuses, one row each: household index, month index from the first
    demo month (negative before it), method, reason, day recorded; ``final`` is each
    household's method in force at the end."""

    household: np.ndarray
    month: np.ndarray
    method: np.ndarray
    reason: np.ndarray
    recorded: np.ndarray
    final: np.ndarray


def month_starts(last: dt.date, count: int) -> list[dt.date]:
    """The ``count`` month starts ending with ``last``'s month, oldest first."""
    index = last.year * 12 + last.month - 1
    return [dt.date((i) // 12, (i) % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def _timestamp(value: dt.datetime) -> str:
    # SQLite keeps naive UTC text; PostgreSQL wants the offset.
    return value.strftime("%Y-%m-%d %H:%M:%S") + ("+00" if connection.vendor == "postgresql" else "")


def _timestamps(values: np.ndarray) -> np.ndarray:
    """``_timestamp`` for an array of naive UTC datetime64 values."""
    text = np.char.replace(np.datetime_as_string(values.astype("datetime64[s]")), "T", " ")
    return np.char.add(text, "+00") if connection.vendor == "postgresql" else text


@transaction.atomic
def seed_demo(*, households: int, months: int, seed: int, last_month: dt.date) -> DemoSummary:
    """Create demo groups, households, memberships, readings and the monthly register
    (family-planning statuses, meetings with attendance, monthly reports); the same arguments
    always give the same data. Refuses to run on a database that already has households.
    Its queries do not grow with the households, but for a few more per 500,000 readings and
    per GROUP_CHUNK groups (memory stays bounded)."""
    if Household.objects.exists():
        raise ValueError("The database already has households; seed_demo only fills an empty one.")
    rng = np.random.default_rng(seed)
    kb_rng, meeting_rng, report_rng = rng.spawn(3)
    periods = month_starts(last_month, months)
    kelurahan = list(Kelurahan.objects.order_by("code"))
    types = {t.code: t for t in GroupType.objects.all()}
    opds = list(Opd.objects.filter(code__in=OPD_TYPES).order_by("code"))
    if not kelurahan or not opds or not {"KWT", "NELAYAN", "UEP"} <= types.keys():
        raise ValueError("Master data (areas, OPD, group types) is missing: run migrate first.")

    groups, sizes = _create_groups(rng, households, periods, kelurahan, types, opds)
    group_of = np.repeat(np.arange(len(groups)), sizes)
    frame = _household_frame(rng, households, groups, group_of, kelurahan, periods)
    members = _draw_memberships(rng, group_of, len(groups), periods)
    plan = _plan_kb_statuses(kb_rng, frame["kb_method"].to_numpy(dtype=str), members, periods)
    frame["kb_method"] = plan.final  # the method in force now is the latest status
    bulk_insert(Household, frame)
    ids_by_kk = dict(Household.objects.values_list("kk_number", "id"))
    household_ids = np.array([ids_by_kk[k] for k in frame["kk_number"]])
    group_ids = np.array([g.id for g in groups])
    bulk_insert(
        Membership,
        pd.DataFrame({
            "household_id": household_ids[members.household],
            "group_id": group_ids[members.group],
            "joined_on": np.datetime_as_string(members.joined),
            "left_on": np.where(np.isnat(members.left), None, np.datetime_as_string(members.left)),
        }),
    )
    readings = _insert_readings(rng, members, household_ids, periods)
    _create_problems(rng, groups, periods)

    statuses = _insert_kb_statuses(plan, household_ids, periods)
    active = _active_at_month_end(members, len(groups), periods)
    meetings, attendances = _insert_meetings(meeting_rng, members, active, household_ids, group_ids, periods)
    reports = _insert_reports(report_rng, active, group_ids, periods)
    profiles = demo_profiles.create_profiles(
        np.random.default_rng([seed, 15]), groups, members, household_ids, plan.final, last_month)
    _ensure_target(last_month.year)
    figures.rebuild()
    register.follow_methods()  # nothing left to do: every household has its statuses already
    return DemoSummary(
        len(groups), households, len(members.household), readings, periods[0], periods[-1],
        statuses, meetings, attendances, reports, profiles,
    )


def _create_groups(rng, households, periods, kelurahan, types, opds) -> tuple[list[Group], list[int]]:
    """Groups of 10–30 members until every household has one; their sizes."""
    teams = {opd.code: opd.default_team() for opd in opds}
    second = WorkingTeam.objects.get_or_create(opd=opds[0], name=f"Tim Kerja {opds[0].code} 2")[0]
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
    return list(Group.objects.order_by("code")), sizes  # ids, whatever the backend returned


def _household_frame(rng, n, groups, group_of, kelurahan, periods) -> pd.DataFrame:
    """The households' rows (their method is the first one; seed_demo sets the last)."""
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
    return pd.DataFrame(
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


def _draw_memberships(rng, group_of, group_count, periods) -> _Members:
    """Everyone in their group, joined mostly inside the window so there are readings before
    and after; 5% in a second group; 6% left later."""
    n, months = len(group_of), len(periods)
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
    extra = np.flatnonzero(rng.random(n) < 0.05)
    other = (group_of[extra] + rng.integers(1, max(2, group_count), size=len(extra))) % group_count
    extra, other = extra[other != group_of[extra]], other[other != group_of[extra]]
    extra_join = np.minimum(join_month[extra] + rng.integers(1, 6, size=len(extra)), last_index)
    extra_dates = [_month_day(periods[0], j, 10) for j in extra_join]
    return _Members(
        household=np.concatenate([np.arange(n), extra]),
        group=np.concatenate([group_of, other]),
        joined=np.array(join_dates + extra_dates, dtype="datetime64[D]"),
        left=np.array(left_dates + [None] * len(extra), dtype="datetime64[D]"),
        join_month=join_month,
        left_dates=left_dates,
    )


def _insert_readings(rng, members: _Members, household_ids, periods) -> int:
    """Monthly income: a household's own level (Rp 0.5–6 million), ±10% noise, most families
    earning a little more in the six months after joining; some months never recorded."""
    n, months = len(household_ids), len(periods)
    join_month, left_dates = members.join_month, members.left_dates
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
    return len(readings)


def _create_problems(rng, groups, periods) -> None:
    """Problems for about a third of the groups; market access is the most common."""
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


def _month_index(days: np.ndarray, periods) -> np.ndarray:
    """Each day's month counted from the first demo month (meaningless for NaT)."""
    return (days.astype("datetime64[M]") - np.datetime64(periods[0], "M")).astype(np.int64)


def _plan_kb_statuses(rng, first_method: np.ndarray, members: _Members, periods) -> _KbPlan:
    """Each household's family-planning statuses: its first method from the month of its
    earliest join (as register.follow_methods would record it), then for about one household
    in ten a change or two at later months of the period while it is still a member: a new
    acceptor, a switch of method, or an acceptor stopping (mostly for a pregnancy)."""
    n, last_index = len(first_method), len(periods) - 1
    first_join = np.full(n, np.datetime64("9999-12-31"), dtype="datetime64[D]")
    np.minimum.at(first_join, members.household, members.joined)
    until = np.full(n, -1)
    member_until = np.where(np.isnat(members.left), last_index, _month_index(members.left, periods))
    np.maximum.at(until, members.household, np.minimum(member_until, last_index))
    first_month = _month_index(first_join, periods)
    lower = np.maximum(first_month + 1, 0)
    room = np.maximum(until - lower + 1, 0)
    changes = np.minimum(rng.choice(3, size=n, p=KB_CHANGES), room)
    # Two different months among the ``room`` ones: the second skips over the first.
    a = np.floor(rng.random(n) * room).astype(np.int64)
    b = np.floor(rng.random(n) * np.maximum(room - 1, 0)).astype(np.int64)
    b += b >= a
    change_months = [lower + np.where(changes == 2, np.minimum(a, b), a), lower + np.maximum(a, b)]

    methods = [first_method]
    reasons = [np.where(first_method == "TIDAK", rng.choice(KB_REASONS, size=n, p=REASON_WEIGHTS), "")]
    for _ in range(2):
        new = _switch_methods(rng, methods[-1])
        methods.append(new)
        reasons.append(np.where(new == "TIDAK", rng.choice(KB_REASONS, size=n, p=STOP_REASON_WEIGHTS), ""))
    final = np.select([changes == 2, changes == 1], [methods[2], methods[1]], methods[0])

    # The first status is recorded on the join day, a change on a day of its month.
    change_days = rng.integers(0, 28, size=(2, n))
    starts = np.datetime64(periods[0], "M")
    recorded = [first_join] + [(starts + change_months[i]).astype("datetime64[D]") + change_days[i] for i in range(2)]
    keep = [np.ones(n, dtype=bool), changes >= 1, changes == 2]
    months = [first_month] + change_months
    return _KbPlan(
        household=np.concatenate([np.flatnonzero(k) for k in keep]),
        month=np.concatenate([m[k] for m, k in zip(months, keep)]),
        method=np.concatenate([m[k] for m, k in zip(methods, keep)]),
        reason=np.concatenate([r[k] for r, k in zip(reasons, keep)]),
        recorded=np.concatenate([r[k] for r, k in zip(recorded, keep)]),
        final=final,
    )


def _switch_methods(rng, current: np.ndarray) -> np.ndarray:
    """Each household's next method: an acceptor stops (STOP_SHARE) or takes another method,
    a household without one becomes an acceptor; acceptor methods in their usual mix."""
    acceptor_methods = np.array(KB_METHODS[:-1])
    weights = np.array(KB_WEIGHTS[:-1]) / sum(KB_WEIGHTS[:-1])
    new = rng.choice(acceptor_methods, size=len(current), p=weights)
    same = new == current
    while same.any():  # draw again until different: a change changes the method
        new[same] = rng.choice(acceptor_methods, size=int(same.sum()), p=weights)
        same = new == current
    stops = (current != "TIDAK") & (rng.random(len(current)) < STOP_SHARE)
    return np.where(stops, "TIDAK", new)


def _insert_kb_statuses(plan: _KbPlan, household_ids, periods) -> int:
    """Write the planned statuses, each recorded at 10:00 WITA on its day."""
    starts = np.datetime64(periods[0], "M")
    statuses = pd.DataFrame({
        "household_id": household_ids[plan.household],
        "period": np.datetime_as_string((starts + plan.month).astype("datetime64[D]")),
        "method": plan.method,
        "reason": plan.reason,
        "recorded_at": _timestamps(plan.recorded + np.timedelta64(10, "h") - WITA),
    })
    for start in range(0, len(statuses), 500_000):
        bulk_insert(KbStatus, statuses.iloc[start : start + 500_000])
    return len(statuses)


def _active_at_month_end(members: _Members, group_count: int, periods) -> np.ndarray:
    """Active members of each group (rows) on the last day of each demo month (columns): a
    membership counts from its join month to the month before it left."""
    months = len(periods)
    start = np.clip(_month_index(members.joined, periods), 0, months)
    stop = np.where(np.isnat(members.left), months, np.clip(_month_index(members.left, periods), 0, months))
    counts = np.zeros((group_count, months + 1), dtype=np.int64)
    spans = start < stop
    np.add.at(counts, (members.group[spans], start[spans]), 1)
    np.add.at(counts, (members.group[spans], stop[spans]), -1)
    return np.cumsum(counts, axis=1)[:, :months]


def _weekdays(periods) -> tuple[np.ndarray, np.ndarray]:
    """Monday to Friday of each month: a months × 23 array of days (padded) and their count."""
    days = np.zeros((len(periods), 23), dtype="datetime64[D]")
    counts = np.zeros(len(periods), dtype=np.int64)
    for i, first in enumerate(periods):
        month = np.arange(np.datetime64(first, "D"), np.datetime64(_month_day(first, 1, 1), "D"))
        month = month[np.is_busday(month)]
        days[i, : len(month)], counts[i] = month, len(month)
    return days, counts


def _insert_meetings(rng, members: _Members, active, household_ids, group_ids, periods) -> tuple[int, int]:
    """Meetings of each group in each month it has members: none, one or two, on weekdays,
    mostly face to face; each active member attends with its family's own propensity.
    Written a chunk of groups at a time, in the order of their ids."""
    propensity = rng.beta(*ATTENDANCE, size=len(household_ids))
    by_group = np.argsort(members.group, kind="stable")
    member_count = np.bincount(members.group, minlength=len(group_ids))
    first_member = np.concatenate([[0], np.cumsum(member_count)[:-1]])
    weekdays, weekday_count = _weekdays(periods)
    order = np.argsort(group_ids)
    meetings = attendances = 0
    for start in range(0, len(order), GROUP_CHUNK):
        chunk = order[start : start + GROUP_CHUNK]
        group, day = _draw_meetings(rng, chunk, active[chunk], weekdays, weekday_count)
        frame = pd.DataFrame({
            "group_id": group_ids[group],
            "held_on": np.datetime_as_string(day),
            "mode": np.where(rng.random(len(group)) < VIRTUAL_SHARE, "VIRTUAL", "TATAP_MUKA"),
            "topic": np.array(TOPICS)[rng.integers(len(TOPICS), size=len(group))],
            "recorded_at": _timestamps(day + np.timedelta64(11, "h")),  # 19:00 WITA
        })
        bulk_insert(Meeting, frame)
        stored = list(
            Meeting.objects.filter(group_id__in=group_ids[chunk].tolist())
            .order_by("group_id", "held_on").values_list("id", "group_id", "held_on")
        )
        if [(g, d) for _, g, d in stored] != list(zip(frame["group_id"].tolist(), day.tolist())):
            raise RuntimeError("The meetings read back are not the ones written.")
        meeting_ids = np.array([pk for pk, _, _ in stored], dtype=np.int64)

        # Every (meeting, membership of its group) pair; present when active that day and coming.
        per_meeting = member_count[group]
        pair_meeting = np.repeat(np.arange(len(group)), per_meeting)
        offset = np.arange(per_meeting.sum()) - np.repeat(np.cumsum(per_meeting) - per_meeting, per_meeting)
        membership = by_group[np.repeat(first_member[group], per_meeting) + offset]
        held = day[pair_meeting]
        present = (members.joined[membership] <= held) & ~(members.left[membership] <= held)
        present &= rng.random(len(membership)) < propensity[members.household[membership]]
        bulk_insert(Meeting.attendees.through, pd.DataFrame({
            "meeting_id": meeting_ids[pair_meeting[present]],
            "household_id": household_ids[members.household[membership[present]]],
        }))
        meetings += len(group)
        attendances += int(present.sum())
    return meetings, attendances


def _draw_meetings(rng, chunk, active, weekdays, weekday_count) -> tuple[np.ndarray, np.ndarray]:
    """The groups (indexes from ``chunk``) and days of a chunk's meetings, sorted by group id
    and day: one meeting on any weekday of the month, two in its first and second half."""
    held = rng.choice(3, size=active.shape, p=MEETINGS_A_MONTH) * (active > 0)
    count = weekday_count[None, :]
    half = count // 2
    one = np.floor(rng.random(active.shape) * count).astype(np.int64)
    early = np.floor(rng.random(active.shape) * half).astype(np.int64)
    late = half + np.floor(rng.random(active.shape) * (count - half)).astype(np.int64)
    rows, cols = np.nonzero(held == 1)
    rows2, cols2 = np.nonzero(held == 2)
    group = np.concatenate([rows, rows2, rows2])
    day = np.concatenate([
        weekdays[cols, one[rows, cols]], weekdays[cols2, early[rows2, cols2]], weekdays[cols2, late[rows2, cols2]],
    ])
    by = np.lexsort((day, group))  # the chunk is in id order: by index is by id
    return chunk[group[by]], day[by]


def _insert_reports(rng, active, group_ids, periods) -> int:
    """Each group's monthly report for the months it has members: most by the 3rd of the next
    month, some a few days late, some never (each group with its own habits). The last
    month's late reports have not come yet. Submitted by one of the group's cadres, if any."""
    groups, months = active.shape
    missing = rng.beta(*REPORT_MISSING, size=groups)[:, None]
    late = rng.beta(*REPORT_LATE, size=groups)[:, None]
    draw = rng.random(active.shape)
    on_time, is_late = draw >= missing + late, (draw >= missing) & (draw < missing + late)
    is_late[:, -1] = False
    rows, cols = np.nonzero((active > 0) & (on_time | is_late))
    # Local time: the 1st–3rd of the next month, or the 4th–10th; between 08:00 and 21:00.
    day = np.where(is_late[rows, cols], rng.integers(3, 10, size=len(rows)), rng.integers(0, 3, size=len(rows)))
    minute = rng.integers(8 * 60, 21 * 60, size=len(rows))
    next_month = (np.datetime64(periods[0], "M") + cols + 1).astype("datetime64[D]")
    submitted = next_month.astype("datetime64[m]") + day * 1440 + minute - WITA
    cadre = _cadre_of(rng, group_ids[rows])
    frame = pd.DataFrame({
        "group_id": group_ids[rows],
        "period": np.datetime_as_string((np.datetime64(periods[0], "M") + cols).astype("datetime64[D]")),
        "submitted_by_id": pd.array(cadre, dtype="Int64"),
        "submitted_at": _timestamps(submitted),
    })
    bulk_insert(MonthlyReport, frame)
    return len(frame)


def _cadre_of(rng, report_groups: np.ndarray) -> list:
    """For each report, one of its group's cadres (None for a group without one)."""
    if not len(report_groups):
        return []
    assigned = {}
    for group_id, user_id in (
        Group.cadres.through.objects.filter(group_id__gte=report_groups.min(), group_id__lte=report_groups.max())
        .order_by("group_id", "user_id").values_list("group_id", "user_id")
    ):
        assigned.setdefault(group_id, []).append(user_id)
    pick = rng.random(len(report_groups))
    return [
        assigned[g][int(p * len(assigned[g]))] if g in assigned else None
        for g, p in zip(report_groups.tolist(), pick)
    ]


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
