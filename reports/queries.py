"""The fast path for the metrics of ``reports/compute.py``: SQL for each household's
readings around each join month, pandas for the scopes. Two queries whatever the size of
the data; the tests hold this path to the pure core's answers.

Exactness: a mean of up to three whole-Rupiah readings is kept as an integer ×6 (6 is
divisible by 1, 2 and 3), so sums, means and medians stay exact and become ``Fraction``
values at the end.
"""

import datetime as dt
import tempfile
import time
from collections.abc import Hashable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Exists, IntegerField, OuterRef
from django.db.models.functions import Cast

from groups.models import Group, PovertyLine
from households.models import IncomeReading, KbMethod, Membership
from reports.compute import Summary
from uppka.months import end_of_month

SCALE = 6
EMPTY_FIGURES = (0, None, None, None, None, None, None, None)  # a Summary after active_members


def _month_start_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"date_trunc('month', {column}::timestamp)::date"
    return f"date({column}, 'start of month')"


def _side_sql(condition: str) -> str:
    """Sum, count and latest month of the latest three readings meeting ``condition``."""
    reading = "households_incomereading"
    latest = (
        f"SELECT r.amount, r.period FROM {reading} r WHERE r.household_id = p.household_id AND {condition} "
        f"ORDER BY r.period DESC LIMIT 3"
    )
    if connection.vendor == "postgresql":
        return f"SELECT SUM(x.amount) AS s, COUNT(*) AS n, MAX(x.period) AS last FROM ({latest}) x"
    return latest


def _pair_stats_sql(groups_sql: str, distinct: bool) -> str:
    before, after = "r.period < p.j", "r.period > p.j AND r.period <= %s"
    pairs = (
        f"SELECT {'DISTINCT ' if distinct else ''}m.household_id, {_month_start_sql('m.joined_on')} AS j "
        f"FROM households_membership m WHERE m.joined_on <= %s AND m.group_id IN ({groups_sql})"
    )
    if connection.vendor == "postgresql":
        # LATERAL with LIMIT 3 per side is PostgreSQL's fastest plan (see RECIPES.md).
        return (
            f"SELECT p.household_id, p.j, b.s AS b_sum, b.n AS b_n, b.last AS b_last, "
            f"a.s AS a_sum, a.n AS a_n, a.last AS a_last FROM ({pairs}) p "
            f"LEFT JOIN LATERAL ({_side_sql(before)}) b ON true "
            f"LEFT JOIN LATERAL ({_side_sql(after)}) a ON true"
        )
    columns = []
    for side, condition in (("b", before), ("a", after)):
        latest = _side_sql(condition)
        columns += [
            f"(SELECT SUM(x.amount) FROM ({latest}) x) AS {side}_sum",
            f"(SELECT COUNT(*) FROM ({latest}) x) AS {side}_n",
            f"(SELECT MAX(x.period) FROM ({latest}) x) AS {side}_last",
        ]
    return f"SELECT p.household_id, p.j, {', '.join(columns)} FROM ({pairs}) p"


def pair_stats_query(groups, as_of: dt.date, distinct: bool = True) -> tuple[str, list]:
    """SQL and parameters: for every (household, join month) of the groups' memberships
    joined by the end of the as-of month, sum, count and latest month of the readings on
    each side (columns household_id, j, b_sum, b_n, b_last, a_sum, a_n, a_last).

    ``distinct=False`` gives one row per membership instead, repeating a (household, join
    month) that two memberships share (rare): cheaper for PostgreSQL than DISTINCT's
    hash, and the caller drops the repeats."""
    groups_sql, groups_params = groups.order_by().values("id").query.sql_with_params()
    pairs_params = [end_of_month(as_of), *groups_params]
    if connection.vendor == "postgresql":
        params = [*pairs_params, as_of]  # FROM pairs, then the "after" LATERAL
    else:
        params = [as_of, as_of, as_of, *pairs_params]  # three "after" subqueries, then FROM pairs
    return _pair_stats_sql(groups_sql, distinct), params


def pair_stats(groups, as_of: dt.date) -> pd.DataFrame:
    sql, params = pair_stats_query(groups, as_of, distinct=False)
    frame = fetch_frame(sql, params, STATS_COLUMNS, _compact_stats)
    return frame.drop_duplicates(["household_id", "j"], ignore_index=True)


STATS_COLUMNS = ["household_id", "j", "b_sum", "b_n", "b_last", "a_sum", "a_n", "a_last"]


def _compact_stats(frame: pd.DataFrame) -> pd.DataFrame:
    for column in ("j", "b_last", "a_last"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[s]")
    for column in ("household_id", "b_sum", "b_n", "a_sum", "a_n"):
        frame[column] = frame[column].fillna(0).astype("int64")
    return frame


MEMBERSHIP_COLUMNS = {
    "household_id": "household_id",
    "group_id": "group_id",
    "joined_on": "joined_on",
    "left_on": "left_on",
    "opd_id": "group__team__opd_id",
    "type_id": "group__group_type_id",
    "kelurahan_id": "household__kelurahan_id",
    "kecamatan_id": "household__kelurahan__kecamatan_id",
    "family_size": "household__family_size",
    "kb_method": "household__kb_method",
}


def membership_frame(groups, end: dt.date) -> pd.DataFrame:
    """Memberships of the groups that began on or before ``end``, one query."""
    # order_by(): no sort by the model's ordering (group code, name), which joins two tables
    queryset = Membership.objects.filter(group__in=groups, joined_on__lte=end).order_by().values_list(
        *MEMBERSHIP_COLUMNS.values()
    )
    return queryset_frame(queryset, list(MEMBERSHIP_COLUMNS), lambda frame: _compact_memberships(frame, end))


def _compact_memberships(frame: pd.DataFrame, end: dt.date) -> pd.DataFrame:
    frame["joined_on"] = pd.to_datetime(frame["joined_on"]).astype("datetime64[s]")
    frame["left_on"] = pd.to_datetime(frame["left_on"]).astype("datetime64[s]")
    frame["active"] = frame["left_on"].isna() | (frame["left_on"] > pd.Timestamp(end))
    frame["acceptor"] = frame.pop("kb_method") != KbMethod.TIDAK
    for column in ("household_id", "group_id", "opd_id", "type_id", "kelurahan_id", "kecamatan_id", "family_size"):
        frame[column] = frame[column].astype("int64")
    return frame


FETCH_ROWS = 20_000


def queryset_frame(queryset, columns: list[str], compact) -> pd.DataFrame:
    """fetch_frame for a ``values_list`` queryset; an empty frame, without a query, when
    the queryset cannot match anything (e.g. filtered by ``Group.objects.none()``)."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return _concat([], columns, compact)
    return fetch_frame(sql, params, columns, compact)


def fetch_frame(sql: str, params, columns: list[str], compact) -> pd.DataFrame:
    """Run SQL and build a DataFrame chunk by chunk, each chunk turned into compact numeric
    columns at once: a hundred thousand rows never sit in memory as Python objects."""
    if connection.vendor == "postgresql":
        return _copy_frame(sql, params, columns, compact)
    chunks = []
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH_ROWS):
            chunks.append(compact(pd.DataFrame(rows, columns=columns)))
    return _concat(chunks, columns, compact)


def _copy_frame(sql: str, params, columns: list[str], compact) -> pd.DataFrame:
    """PostgreSQL: COPY the result out as CSV (spilled to a temporary file when large) and
    let pandas' C parser build the columns. No Python object per value: at 100,000
    households this halves the time the dashboard spends fetching."""
    with connection.cursor() as cursor:
        query = f"COPY ({cursor.mogrify(sql, params).decode()}) TO STDOUT WITH (FORMAT csv)"
        with tempfile.SpooledTemporaryFile(max_size=COPY_IN_MEMORY) as buffer:
            start = time.monotonic()
            cursor.cursor.copy_expert(query, buffer)
            if connection.queries_logged:  # counted like any query (django_assert_num_queries, bench)
                connection.queries_log.append({"sql": query, "time": f"{time.monotonic() - start:.3f}"})
            if not buffer.tell():
                return _concat([], columns, compact)
            buffer.seek(0)
            reader = pd.read_csv(buffer, names=columns, header=None, chunksize=FETCH_ROWS, dtype=CSV_TYPES)
            return _concat([compact(chunk) for chunk in reader], columns, compact)


COPY_IN_MEMORY = 16 * 2**20
# Text that must stay text whatever it looks like; every other column is a number or a date.
CSV_TYPES = {"kb_method": "string"}


def _concat(chunks: list[pd.DataFrame], columns: list[str], compact) -> pd.DataFrame:
    if not chunks:
        return compact(pd.DataFrame([], columns=columns))
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]


@dataclass(frozen=True)
class Lines:
    """Poverty lines as arrays, to find the one in force for many months at once."""

    dates: np.ndarray
    amounts: np.ndarray

    @classmethod
    def load(cls) -> "Lines":
        lines = list(PovertyLine.objects.order_by("valid_from").values_list("valid_from", "amount"))
        return cls(
            np.array([d for d, _ in lines], dtype="datetime64[s]"),
            np.array([a for _, a in lines], dtype="float64"),
        )

    def in_force(self, months: pd.Series) -> np.ndarray:
        """The line for each month (NaN where none is in force): latest dated in or before it."""
        ends = (months.values.astype("datetime64[M]") + np.timedelta64(1, "M")).astype("datetime64[s]")
        index = np.searchsorted(self.dates, ends, side="left") - 1
        result = np.where(index >= 0, self.amounts[np.clip(index, 0, None)], np.nan)
        return np.where(months.isna().values, np.nan, result)


def units_frame(memberships: pd.DataFrame, stats: pd.DataFrame, key: str) -> pd.DataFrame:
    """One row per (scope, household): its earliest join in the scope, whether it has an
    active membership there, and its figures ×6 for that join month."""
    per = memberships.groupby([key, "household_id"], sort=False).agg(
        joined=("joined_on", "min"), active=("active", "any"), family_size=("family_size", "first")
    ).reset_index()
    per["j"] = per["joined"].values.astype("datetime64[M]").astype("datetime64[s]")
    per = per.merge(stats, on=["household_id", "j"], how="left")
    per["paired"] = (per["b_n"] > 0) & (per["a_n"] > 0)
    paired = per["paired"]
    per["b6"] = np.where(paired, per["b_sum"] * (SCALE // per["b_n"].clip(lower=1)), 0)
    per["a6"] = np.where(paired, per["a_sum"] * (SCALE // per["a_n"].clip(lower=1)), 0)
    per["c6"] = per["a6"] - per["b6"]
    # Only what summaries() reads: every extra column is a copy per household.
    return per[[key, "active", "family_size", "paired", "b6", "a6", "c6", "b_last", "a_last"]]


def summaries(units: pd.DataFrame, key: str, lines: Lines) -> dict[Hashable, Summary]:
    """The Summary of every scope value in ``units`` (see compute.summarize)."""
    active = units.groupby(key, sort=False)["active"].sum()
    paired = units.loc[units["paired"], [key, "family_size", "b6", "a6", "c6", "b_last", "a_last"]]
    for side, last in (("before", "b_last"), ("after", "a_last")):
        line = lines.in_force(paired[last])
        figure = paired["b6"] if side == "before" else paired["a6"]
        paired[f"judged_{side}"] = ~np.isnan(line)
        paired[f"poor_{side}"] = paired[f"judged_{side}"] & (figure < line * SCALE * paired["family_size"])
    paired["rose"] = paired["c6"] > 0
    grouped = paired.groupby(key, sort=False).agg(
        n=("c6", "size"), b6=("b6", "sum"), a6=("a6", "sum"), c6=("c6", "sum"), median6=("c6", "median"),
        rose=("rose", "sum"), judged_before=("judged_before", "sum"), poor_before=("poor_before", "sum"),
        judged_after=("judged_after", "sum"), poor_after=("poor_after", "sum"),
    )
    rows = {row.Index: row for row in grouped.itertuples()}  # .loc per scope is slow for thousands
    result = {}
    for scope, members in active.items():
        g = rows.get(scope)
        if g is None:
            result[scope] = Summary(int(members), *EMPTY_FIGURES)
            continue
        n = int(g.n)
        result[scope] = Summary(
            active_members=int(members),
            paired=n,
            mean_baseline=Fraction(int(g.b6), SCALE * n),
            mean_current=Fraction(int(g.a6), SCALE * n),
            mean_change=Fraction(int(g.c6), SCALE * n),
            median_change=Fraction(float(g.median6)) / SCALE,
            pct_increased=Fraction(int(g.rose) * 100, n),
            pct_poor_before=_share(g.poor_before, g.judged_before),
            pct_poor_after=_share(g.poor_after, g.judged_after),
        )
    return result


def _share(part, whole) -> Fraction | None:
    return Fraction(int(part) * 100, int(whole)) if int(whole) else None


EMPTY = Summary(0, *EMPTY_FIGURES)
SCOPE_KEYS = ("group_id", "opd_id", "type_id", "kecamatan_id", "kelurahan_id")


@dataclass(frozen=True)
class Figures:
    """Every scope's Summary for one selection of groups and one as-of month."""

    as_of: dt.date
    total: Summary
    by: dict[str, dict[Hashable, Summary]]  # scope key → scope id → Summary


@dataclass(frozen=True)
class Progress:
    """Distinct acceptor households with a membership active on a day."""

    day: dt.date
    total: int
    by: dict[str, dict[Hashable, int]]  # "kecamatan_id", "opd_id", "type_id" → id → count


class Dataset:
    """The memberships of a selection of groups and their readings around each join month,
    loaded once (two queries) for every figure of a page."""

    def __init__(self, groups, as_of: dt.date):
        self.as_of = as_of
        self.memberships = membership_frame(groups, end_of_month(as_of))
        self.stats = pair_stats(groups, as_of) if not self.memberships.empty else None

    def figures(self, keys=SCOPE_KEYS) -> Figures:
        """Summaries for the selection as a whole and per scope key (group, OPD, type,
        kecamatan, kelurahan), computing only the keys asked for."""
        if self.memberships.empty:
            return Figures(as_of=self.as_of, total=EMPTY, by={key: {} for key in keys})
        lines = Lines.load()
        frame = self.memberships.assign(all=0)
        by = {key: summaries(units_frame(frame, self.stats, key), key, lines) for key in ("all", *keys)}
        return Figures(as_of=self.as_of, total=by.pop("all")[0], by=by)

    def progress(self, day: dt.date) -> Progress:
        """Target progress on a day within the as-of month or before it."""
        assert day <= end_of_month(self.as_of), "the dataset holds memberships up to its as-of month"
        frame = self.memberships
        if frame.empty:
            return Progress(day, 0, {key: {} for key in PROGRESS_KEYS})
        stamp = pd.Timestamp(day)
        counted = frame[
            frame["acceptor"]
            & (frame["joined_on"] <= stamp)
            & (frame["left_on"].isna() | (frame["left_on"] > stamp))
        ]
        by = {key: counted.groupby(key)["household_id"].nunique().to_dict() for key in PROGRESS_KEYS}
        return Progress(day, int(counted["household_id"].nunique()), by)


PROGRESS_KEYS = ("kecamatan_id", "opd_id", "type_id")


@dataclass(frozen=True)
class Reporting:
    """Reporting completeness for a month: per group and per cadre, and who is late."""

    month: dt.date
    active_members: int
    reported: int
    by_group: dict[int, tuple[int, int]]  # group id → (active members, reported)
    by_cadre: dict[int, tuple[int, int]]  # cadre user id → (distinct active members, reported)

    @property
    def pct(self) -> Fraction | None:
        return Fraction(self.reported * 100, self.active_members) if self.active_members else None


def reporting(groups, month: dt.date) -> Reporting:
    """Active members (end of month) with a reading for the month: one row per active
    membership from the database, counted per group and per cadre in pandas (two queries)."""
    has_reading = Exists(IncomeReading.objects.filter(household_id=OuterRef("household_id"), period=month))
    members = (
        Membership.objects.active_on(end_of_month(month))
        .filter(group__in=groups)
        .annotate(has_reading=Cast(has_reading, IntegerField()))  # 0/1 on both databases
        .order_by()
        .values_list("household_id", "group_id", "has_reading")
    )
    frame = queryset_frame(members, ["household_id", "group_id", "has_reading"], _compact_reporting)
    cadres = pd.DataFrame(
        list(Group.cadres.through.objects.filter(group__in=groups).values_list("group_id", "user_id")),
        columns=["group_id", "user_id"],
    )

    def counts(by: str, rows: pd.DataFrame) -> dict[int, tuple[int, int]]:
        active = rows.groupby(by)["household_id"].nunique()
        reported = rows[rows["has_reading"]].groupby(by)["household_id"].nunique()
        return {int(k): (int(n), int(reported.get(k, 0))) for k, n in active.items()}

    return Reporting(
        month,
        active_members=int(frame["household_id"].nunique()),
        reported=int(frame.loc[frame["has_reading"], "household_id"].nunique()),
        by_group=counts("group_id", frame),
        by_cadre=counts("user_id", frame.merge(cadres, on="group_id")),
    )


def _compact_reporting(frame: pd.DataFrame) -> pd.DataFrame:
    for column in ("household_id", "group_id"):
        frame[column] = frame[column].astype("int64")
    frame["has_reading"] = frame["has_reading"].astype("int64") == 1
    return frame
