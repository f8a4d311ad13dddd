"""The monthly recap of SPEC section 8, as plain Python: the readable reference that the
database queries of ``reports/recap.py`` are held to by ``tests/test_recap.py``. No page
uses it.

Plain data in (tuples and small dataclasses, no ORM), one ``RecapLine`` per scope out.
Months are ``datetime.date`` values on the first of the month.
"""

import datetime as dt
from dataclasses import dataclass, field

from households.register import method_in_force
from uppka.months import end_of_month, month_before

METHODS = ("IUD", "MOW", "MOP", "IMPLAN", "SUNTIK", "PIL", "KONDOM", "MAL", "TRADISIONAL")
MKJP = frozenset({"IUD", "IMPLAN", "MOW", "MOP"})
REASONS = ("HAMIL", "IAS", "IAT", "TIAL", "LAINNYA")
NONE = "TIDAK"


@dataclass(frozen=True)
class Group:
    id: int
    opd: int
    type: int
    kecamatan: int
    kelurahan: int
    active: bool = True


@dataclass(frozen=True)
class Membership:
    household: int
    group: int
    joined_on: dt.date
    left_on: dt.date | None = None

    def active_on(self, day: dt.date) -> bool:
        return self.joined_on <= day and (self.left_on is None or self.left_on > day)


@dataclass(frozen=True)
class Meeting:
    group: int
    held_on: dt.date
    mode: str  # TATAP_MUKA or VIRTUAL
    present: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Status:
    household: int
    period: dt.date
    method: str
    reason: str = ""


@dataclass
class RecapLine:
    groups: int = 0
    groups_reported: int = 0
    meetings: int = 0
    face_to_face: int = 0
    virtual: int = 0
    members: int = 0
    present: int = 0
    acceptors: int = 0
    by_method: dict[str, int] = field(default_factory=lambda: dict.fromkeys(METHODS, 0))
    mkjp: int = 0
    new_acceptors: int = 0
    by_reason: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    acceptors_after_joining: int = 0


def scope_keys(group: Group) -> list[tuple[str, int | None]]:
    """The lines a group counts in: an area line holds the groups based in that area."""
    return [("city", None), ("opd", group.opd), ("type", group.type),
            ("kecamatan", group.kecamatan), ("kelurahan", group.kelurahan), ("group", group.id)]


def recap(month: dt.date, groups, memberships, meetings, statuses, reported) -> dict[tuple, RecapLine]:
    """Every scope line of month ``month`` (first of month). ``reported`` holds the ids of the
    groups that reported the month."""
    last = end_of_month(month)
    history: dict[int, list[tuple[dt.date, str, str]]] = {}
    for s in statuses:
        history.setdefault(s.household, []).append((s.period, s.method, s.reason))

    def in_force(household: int, period: dt.date) -> tuple[str | None, str]:
        own = history.get(household, [])
        method = method_in_force([(p, m) for p, m, _ in own], period)
        if method is None:
            return None, ""
        return method, max((p, r) for p, m, r in own if p <= period)[1]

    by_group = {}
    for m in memberships:
        by_group.setdefault(m.group, []).append(m)
    counted = [g for g in groups if g.active and any(m.active_on(last) for m in by_group.get(g.id, []))]
    in_month = [mt for mt in meetings if month <= mt.held_on <= last]

    lines: dict[tuple, list[Group]] = {}
    for g in counted:
        for key in scope_keys(g):
            lines.setdefault(key, []).append(g)

    result = {}
    for key, line_groups in lines.items():
        ids = {g.id for g in line_groups}
        line = RecapLine(groups=len(ids), groups_reported=len(ids & set(reported)))
        held = [mt for mt in in_month if mt.group in ids]
        line.meetings = len(held)
        line.face_to_face = sum(mt.mode == "TATAP_MUKA" for mt in held)
        line.virtual = sum(mt.mode == "VIRTUAL" for mt in held)
        own = [m for m in memberships if m.group in ids]
        members = {m.household for m in own if m.active_on(last)}
        line.members = len(members)
        line.present = len({h for mt in held for h in mt.present
                            if h in members and any(m.household == h and m.group == mt.group for m in own)})
        for household in members:
            method, reason = in_force(household, month)
            if method is None:
                continue
            if method == NONE:
                line.by_reason[reason] += 1
                continue
            line.acceptors += 1
            line.by_method[method] += 1
            line.mkjp += method in MKJP
            line.new_acceptors += in_force(household, month_before(month))[0] == NONE
            joined = min(m.joined_on for m in own if m.household == household).replace(day=1)
            line.acceptors_after_joining += in_force(household, joined)[0] == NONE
        result[key] = line
    return result

