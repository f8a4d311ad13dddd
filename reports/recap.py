"""The monthly recap of SPEC section 8, aggregated in the database: three queries whatever
the number of groups and households. ``reports/recap_reference.py`` is the readable rule it
is held to (tests/test_recap.py, random data, both databases).

A line holds the groups based in its scope (the city, an OPD, a group type, a kecamatan, a
kelurahan, or one group) that are active with at least one active member on the last day
of the month; each household counts once per line.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from groups.models import Group, GroupType, Kecamatan, Kelurahan, Opd, WorkingTeam
from households.models import KbMethod, KbStatus, Meeting, Membership, MonthlyReport
from reports.engine import active_on
from reports.recap_reference import METHODS, MKJP, REASONS, RecapLine
from uppka.months import end_of_month, month_before

KINDS = ("city", "opd", "type", "kecamatan", "kelurahan", "group")


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "group": quote(Group._meta.db_table),
        "team": quote(WorkingTeam._meta.db_table),
        "kelurahan": quote(Kelurahan._meta.db_table),
        "membership": quote(Membership._meta.db_table),
        "meeting": quote(Meeting._meta.db_table),
        "present": quote(Meeting.attendees.through._meta.db_table),
        "report": quote(MonthlyReport._meta.db_table),
        "status": quote(KbStatus._meta.db_table),
    }


KEY_COLUMNS = {"city": "0", "opd": "opd_id", "type": "type_id", "kecamatan": "kecamatan_id",
               "kelurahan": "kelurahan_id", "group": "id"}


def _keys_sql(groups, kinds=KINDS) -> tuple[str, list]:
    """CTEs ``g`` (the month's counted groups) and ``k`` (each group under each line's key)."""
    t = _tables()
    visible, visible_params = groups.values("id").query.sql_with_params()
    union = " UNION ALL ".join(
        f"SELECT '{kind}' AS kind, {KEY_COLUMNS[kind]} AS scope, id AS group_id FROM g" for kind in kinds
    )
    sql = f"""
        g AS (
            SELECT gr.id, t.opd_id, gr.group_type_id AS type_id, kel.kecamatan_id, gr.kelurahan_id
            FROM {t['group']} gr
            JOIN {t['team']} t ON t.id = gr.team_id
            JOIN {t['kelurahan']} kel ON kel.id = gr.kelurahan_id
            WHERE gr.id IN ({visible})
              AND EXISTS (SELECT 1 FROM {t['membership']} m WHERE m.group_id = gr.id
                          AND {active_on('m')})
        ),
        k AS ({union})"""
    return sql, list(visible_params)


NO_METHOD = 10  # the first code of a status without a method (one per reason)


def _day_number(column: str) -> str:
    """SQL: a date column as a whole number of days since 1 January of year 1 (never
    negative, so that ``% 100`` reads a code back)."""
    if connection.vendor == "sqlite":
        return f"CAST(julianday({column}) - 1721425.5 AS INTEGER)"
    return f"({column} - DATE '0001-01-01')"


def recap(month: dt.date, groups=None, kinds=KINDS) -> dict[tuple[str, int | None], RecapLine]:
    """Every line of ``month`` (first of month) over ``groups`` (a Group queryset already
    limited to what the user may see; all groups when None), of the ``kinds`` asked for
    (all by default; the dashboard asks for the city only). City's key is None."""
    groups = Group.objects.all() if groups is None else groups
    last = end_of_month(month)
    previous = month_before(month)
    t = _tables()
    keys, key_params = _keys_sql(groups.active_on(last), kinds)
    base = [*key_params, last, last]
    lines: dict[tuple, RecapLine] = {}

    def line(kind, scope) -> RecapLine:
        return lines.setdefault((kind, None if kind == "city" else scope), RecapLine())

    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH {keys}
            SELECT k.kind, k.scope, COUNT(*), SUM(CASE WHEN r.id IS NULL THEN 0 ELSE 1 END)
            FROM k LEFT JOIN {t['report']} r ON r.group_id = k.group_id AND r.period = %s
            GROUP BY k.kind, k.scope""",
            [*base, month],
        )
        for kind, scope, count, reported in cursor.fetchall():
            target = line(kind, scope)
            target.groups, target.groups_reported = count, int(reported or 0)

        cursor.execute(
            f"""WITH {keys}
            SELECT k.kind, k.scope, COUNT(*),
                   SUM(CASE WHEN mt.mode = 'TATAP_MUKA' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN mt.mode = 'VIRTUAL' THEN 1 ELSE 0 END)
            FROM k JOIN {t['meeting']} mt ON mt.group_id = k.group_id AND mt.held_on >= %s AND mt.held_on <= %s
            GROUP BY k.kind, k.scope""",
            [*base, month, last],
        )
        for kind, scope, count, face, virtual in cursor.fetchall():
            target = line(kind, scope)
            target.meetings, target.face_to_face, target.virtual = count, int(face or 0), int(virtual or 0)

        # Each status as one number: its month's day number ×100 plus a code for its method
        # (1-9) or, for no method, its reason (10-14). The latest status on or before a day
        # is then the MAX of these numbers, and its code that number % 100: one pass over
        # the statuses instead of a lookup per family and month.
        code = "CASE s.method " + " ".join(f"WHEN '{m}' THEN {i}" for i, m in enumerate(METHODS, 1)) + (
            f" WHEN '{KbMethod.TIDAK}' THEN CASE s.reason "
            + " ".join(f"WHEN '{r}' THEN {NO_METHOD + i}" for i, r in enumerate(REASONS))
            + f" ELSE {NO_METHOD + len(REASONS) - 1} END END")
        stamped = f"({_day_number('s.period')} * 100 + {code})"
        acceptor = f"now_c BETWEEN 1 AND {len(METHODS)}"
        mkjp = ", ".join(str(METHODS.index(m) + 1) for m in sorted(MKJP))
        # One value per (line, family) row, summed per line, in the order read below.
        cells = [
            "1", "present", f"CASE WHEN {acceptor} THEN 1 ELSE 0 END",
            *(f"CASE WHEN now_c = {i} THEN 1 ELSE 0 END" for i, _m in enumerate(METHODS, 1)),
            f"CASE WHEN now_c IN ({mkjp}) THEN 1 ELSE 0 END",
            f"CASE WHEN {acceptor} AND before_c >= {NO_METHOD} THEN 1 ELSE 0 END",
            *(f"CASE WHEN now_c = {NO_METHOD + i} THEN 1 ELSE 0 END" for i, _r in enumerate(REASONS)),
            f"CASE WHEN {acceptor} AND join_c >= {NO_METHOD} THEN 1 ELSE 0 END",
        ]
        sums = ", ".join(f"SUM({cell}) AS c{i}" for i, cell in enumerate(cells))
        totals = ", ".join(f"SUM(c{i})" for i in range(len(cells)))
        # A family in one group only (nine in ten) counts in exactly that group's six lines:
        # its cells are summed per group, and each group's sums spread over its lines. Only
        # the families in several groups are counted line by line, once per line: the
        # status at their earliest join in a line is the one at the smallest of their
        # groups' join numbers (those grow with the join day; none if any has none). A family
        # has one membership per group (a constraint), so a membership is a (group, family).
        cursor.execute(
            f"""WITH {keys},
            mem AS (
                SELECT m.household_id, m.group_id, m.joined_on,
                       CASE WHEN {active_on('m')} THEN 1 ELSE 0 END AS active,
                       CASE WHEN EXISTS (
                           SELECT 1 FROM {t['meeting']} mt JOIN {t['present']} a ON a.meeting_id = mt.id
                           WHERE mt.group_id = m.group_id AND a.household_id = m.household_id
                             AND mt.held_on >= %s AND mt.held_on <= %s) THEN 1 ELSE 0 END AS present
                FROM {t['membership']} m WHERE m.group_id IN (SELECT id FROM g)
            ),
            gh AS MATERIALIZED (
                SELECT group_id, household_id, active AS member, joined_on AS first_join, present,
                       COUNT(*) OVER (PARTITION BY household_id) AS groups_of_household
                FROM mem
            ),
            pk AS MATERIALIZED (
                SELECT gh.group_id, gh.household_id, gh.member, gh.present, gh.groups_of_household,
                       MAX(CASE WHEN s.period <= %s THEN {stamped} END) %% 100 AS now_c,
                       MAX(CASE WHEN s.period <= %s THEN {stamped} END) %% 100 AS before_c,
                       MAX(CASE WHEN s.period <= gh.first_join THEN {stamped} END) AS join_v
                FROM gh LEFT JOIN {t['status']} s ON s.household_id = gh.household_id
                GROUP BY gh.group_id, gh.household_id, gh.member, gh.present, gh.groups_of_household
            ),
            one AS (
                SELECT group_id, present, now_c, before_c, join_v %% 100 AS join_c
                FROM pk WHERE groups_of_household = 1 AND member = 1
            ),
            many AS (
                SELECT k.kind, k.scope, MAX(pk.present) AS present, MAX(pk.now_c) AS now_c,
                       MAX(pk.before_c) AS before_c,
                       CASE WHEN COUNT(pk.join_v) < COUNT(*) THEN NULL ELSE MIN(pk.join_v) END %% 100 AS join_c
                FROM pk JOIN k ON k.group_id = pk.group_id
                WHERE pk.groups_of_household > 1
                GROUP BY k.kind, k.scope, pk.household_id
                HAVING MAX(pk.member) = 1
            ),
            per_group AS (SELECT group_id, {sums} FROM one GROUP BY group_id)
            SELECT kind, scope, {totals} FROM (
                SELECT k.kind, k.scope, per_group.* FROM k JOIN per_group ON per_group.group_id = k.group_id
                UNION ALL
                SELECT kind, scope, NULL, {sums} FROM many GROUP BY kind, scope
            ) x GROUP BY kind, scope""",
            [*base, last, last, month, last, month, previous],
        )
        for row in cursor.fetchall():
            kind, scope, members, present, acceptors = row[:5]
            target = line(kind, scope)
            rest = [int(v or 0) for v in row[5:]]
            target.members, target.present, target.acceptors = int(members or 0), int(present or 0), int(acceptors or 0)
            target.by_method = dict(zip(METHODS, rest[: len(METHODS)]))
            rest = rest[len(METHODS):]
            target.mkjp, target.new_acceptors = rest[0], rest[1]
            target.by_reason = dict(zip(REASONS, rest[2: 2 + len(REASONS)]))
            target.acceptors_after_joining = rest[2 + len(REASONS)]
    return lines


# Rows for the page and the workbook (one computation for both).

HEADERS = [
    "Kelompok", "Kelompok Melapor", "Pertemuan", "Tatap Muka", "Virtual", "Keluarga Anggota", "Keluarga Hadir",
    "Akseptor", *METHODS, "MKJP", "Peserta KB Baru", "Tidak KB Hamil", "Tidak KB IAS", "Tidak KB IAT",
    "Tidak KB TIAL", "Tidak KB Lainnya", "Akseptor Setelah Bergabung",
]
FROM_MEETINGS = HEADERS.index("Pertemuan")
# The same columns on the page, through the translation catalogue (HEADERS are the
# workbook's contract and stay Indonesian).
LABELS = [
    gettext_lazy("Groups"), gettext_lazy("Groups reported"), gettext_lazy("Meetings"), gettext_lazy("Face to face"),
    gettext_lazy("Virtual"), gettext_lazy("Member families"), gettext_lazy("Families present"),
    gettext_lazy("Acceptors"), *METHODS, gettext_lazy("MKJP"), gettext_lazy("New KB participants"),
    gettext_lazy("No KB: pregnant"), gettext_lazy("No KB: IAS"), gettext_lazy("No KB: IAT"),
    gettext_lazy("No KB: TIAL"), gettext_lazy("No KB: other"), gettext_lazy("Acceptors since joining"),
]


def values(line: RecapLine) -> list[int]:
    """A line's cells in the order of ``HEADERS`` (SPEC section 8)."""
    return [
        line.groups, line.groups_reported, line.meetings, line.face_to_face, line.virtual, line.members,
        line.present, line.acceptors, *(line.by_method[m] for m in METHODS), line.mkjp, line.new_acceptors,
        *(line.by_reason[r] for r in REASONS), line.acceptors_after_joining,
    ]


@dataclass(frozen=True)
class RecapRow:
    kind: str  # city, opd, type, kecamatan, kelurahan
    label: str  # the Cakupan, e.g. "Kecamatan 73.73.01 – Wara"
    line: RecapLine
    area: Any = None  # the Opd, GroupType, Kecamatan or Kelurahan

    @property
    def values(self) -> list[int]:
        return values(self.line)


def recap_rows(lines, *, total_label: str, skip=frozenset()) -> list[RecapRow]:
    """The selection first, then each OPD, group type, kecamatan and kelurahan in code order,
    without the sections in ``skip`` (those that would only repeat the first line)."""
    rows = [RecapRow("city", total_label, lines[("city", None)])] if ("city", None) in lines else []
    scopes = [
        ("opd", Opd.objects.all(), _("OPD %(code)s – %(name)s")),
        ("type", GroupType.objects.all(), _("Type %(code)s – %(name)s")),
        ("kecamatan", Kecamatan.objects.all(), _("Kecamatan %(code)s – %(name)s")),
        ("kelurahan", Kelurahan.objects.select_related("kecamatan"), _("Kelurahan %(code)s – %(name)s")),
    ]
    for kind, queryset, label in scopes:
        if kind in skip:
            continue
        keys = [scope for k, scope in lines if k == kind]
        for area in queryset.filter(pk__in=keys).order_by("code"):
            rows.append(RecapRow(kind, label % {"code": area.code, "name": area.name}, lines[(kind, area.pk)], area))
    return rows


@dataclass(frozen=True)
class GroupRecapRow:
    group: Group
    report: MonthlyReport | None
    line: RecapLine

    @property
    def values(self) -> list[int]:
        return values(self.line)[FROM_MEETINGS:]


def not_reported(month: dt.date, groups=None):
    """The groups counted in ``month`` (active, with an active member on its last day) that
    have not reported it, in code order."""
    groups = Group.objects.all() if groups is None else groups
    last = end_of_month(month)
    active = Membership.objects.active_on(last)
    return (
        groups.active_on(last).filter(pk__in=active.values("group_id"))
        .exclude(pk__in=MonthlyReport.objects.filter(period=month).values("group_id"))
        .order_by("code")
    )


def counted_groups(lines):
    """The groups counted in the month, in code order (a queryset: a page can be sliced)."""
    ids = [scope for kind, scope in lines if kind == "group"]
    return Group.objects.filter(pk__in=ids).select_related("kelurahan").order_by("code")


def group_recap_rows(lines, month: dt.date, groups=None) -> list[GroupRecapRow]:
    """One row per group counted in the month (or per group of ``groups``, e.g. a page of
    ``counted_groups``), in code order, with its report (or None)."""
    groups = list(counted_groups(lines) if groups is None else groups)
    reports = {r.group_id: r for r in MonthlyReport.objects.filter(period=month, group__in=[g.pk for g in groups])}
    return [GroupRecapRow(g, reports.get(g.pk), lines[("group", g.pk)]) for g in groups]
