"""The monthly recap (SPEC section 8): the database queries give the readable reference's
answer on random registers, and a hand-worked table."""

import datetime as dt
import random

import pytest
from django.utils import timezone

from groups.models import Group, Kelurahan
from households.models import KbStatus, Meeting, Membership, MonthlyReport
from reports import recap_reference as ref
from reports.recap import not_reported, recap
from tests.factories import make_group, make_member
from tests.jobs_util import followed
from uppka.months import end_of_month

MONTHS = [dt.date(2024, m, 1) for m in range(1, 7)]


def active_then(group, month) -> bool:
    """Whether a group was active at the end of ``month``, read from its history: the last
    record before, else the first record, else as it is now."""
    end = timezone.make_aware(dt.datetime.combine(end_of_month(month) + dt.timedelta(days=1), dt.time.min))
    records = list(group.history.order_by("history_date", "history_id"))
    before = [r for r in records if r.history_date < end]
    return before[-1].is_active if before else records[0].is_active if records else group.is_active


def reference(month, groups=None):
    """The reference's answer from what the database holds."""
    groups = list((groups or Group.objects.all()).select_related("team", "kelurahan"))
    return ref.recap(
        month,
        [ref.Group(g.id, g.team.opd_id, g.group_type_id, g.kelurahan.kecamatan_id, g.kelurahan_id, active_then(g, month))
         for g in groups],
        [ref.Membership(m.household_id, m.group_id, m.joined_on, m.left_on) for m in Membership.objects.all()],
        [ref.Meeting(mt.group_id, mt.held_on, mt.mode, frozenset(mt.attendees.values_list("id", flat=True)))
         for mt in Meeting.objects.all()],
        [ref.Status(s.household_id, s.period, s.method, s.reason) for s in KbStatus.objects.all()],
        set(MonthlyReport.objects.filter(period=month).values_list("group_id", flat=True)),
    )


def random_register(seed: int, households: int = 60) -> None:
    rng = random.Random(seed)
    kelurahan = list(Kelurahan.objects.order_by("code")[:4])
    groups = [
        make_group(opd_code=rng.choice(["DISTAN", "DISKAN"]), type_code=rng.choice(["KWT", "NELAYAN", "UEP"]),
                   kelurahan=rng.choice(kelurahan), is_active=rng.random() > 0.1)
        for _ in range(6)
    ]
    for group in groups:  # created long ago; some deactivated (or back) in the months recapped
        group.history.update(history_date=dt.datetime(2023, 1, 1, tzinfo=dt.UTC))
        if rng.random() < 0.4:
            group.is_active = not group.is_active
            group._history_date = dt.datetime(2024, rng.randrange(1, 7), rng.randrange(1, 29), tzinfo=dt.UTC)
            group.save()
    members = []
    for _ in range(households):
        joined = dt.date(2023, 10, 1) + dt.timedelta(days=rng.randrange(240))
        left = joined + dt.timedelta(days=rng.randrange(20, 200)) if rng.random() < 0.2 else None
        m = make_member(rng.choice(groups), joined_on=joined, left_on=left)
        members.append(m)
        if rng.random() < 0.25:  # a second group
            other = rng.choice([g for g in groups if g != m.group])
            members.append(Membership.objects.create(
                household=m.household, group=other, joined_on=joined + dt.timedelta(days=rng.randrange(-60, 90))))
    KbStatus.objects.all().delete()
    methods = [*ref.METHODS, "TIDAK", "TIDAK", "TIDAK"]
    for household_id in {m.household_id for m in members}:
        for period in sorted(rng.sample([dt.date(2023, m, 1) for m in (9, 11)] + MONTHS, rng.randrange(0, 4))):
            method = rng.choice(methods)
            KbStatus.objects.create(household_id=household_id, period=period, method=method,
                                    reason=rng.choice(ref.REASONS) if method == "TIDAK" else "")
    for group in groups:
        for month in MONTHS:
            for day in rng.sample(range(1, 28), rng.randrange(0, 3)):
                meeting = Meeting.objects.create(group=group, held_on=month.replace(day=day),
                                                 mode=rng.choice(["TATAP_MUKA", "TATAP_MUKA", "VIRTUAL"]), topic="Uji")
                present = [m.household_id for m in members if m.group_id == group.id and rng.random() < 0.7]
                meeting.attendees.set(present)
            if rng.random() < 0.7:
                MonthlyReport.objects.create(group=group, period=month, submitted_at=dt.datetime(2024, 7, 1, tzinfo=dt.UTC))


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_recap_matches_the_reference_on_random_registers(seed):
    random_register(seed)
    for month in MONTHS:
        expected = reference(month)
        assert expected, "the random register should have counted groups"
        assert recap(month) == expected, month


@pytest.mark.django_db
def test_a_group_deactivated_since_still_counts_in_the_months_it_was_active(group_a):
    make_member(group_a, joined_on=dt.date(2024, 1, 10))
    group_a.history.update(history_date=dt.datetime(2023, 12, 1, tzinfo=dt.UTC))
    group_a.is_active = False
    group_a._history_date = dt.datetime(2024, 4, 15, 2, tzinfo=dt.UTC)  # deactivated in April
    group_a.save()
    assert recap(dt.date(2024, 3, 1))[("city", None)].groups == 1
    assert ("city", None) not in recap(dt.date(2024, 4, 1))  # inactive at the end of April
    assert list(not_reported(dt.date(2024, 3, 1))) == [group_a]
    assert list(not_reported(dt.date(2024, 5, 1))) == []


@pytest.mark.django_db
def test_a_scoped_recap_holds_only_the_groups_given(opd_user):
    random_register(7)
    visible = Group.objects.visible_to(opd_user)
    for month in MONTHS[2:4]:
        assert recap(month, visible) == reference(month, visible)
        assert {kind for kind, scope in recap(month, visible) if kind == "opd"} <= {"opd"}
        assert {scope for kind, scope in recap(month, visible) if kind == "opd"} <= {opd_user.opd_id}


@pytest.mark.django_db
def test_a_hand_worked_recap(group_a):
    """March 2024 in one group, worked by hand:

    Ani    joined 10 Jan, PIL since Jan                 member, acceptor, present at 1 meeting
    Budi   joined 10 Jan, TIDAK (IAS) in Jan, IUD from Mar  member, new acceptor, after joining, MKJP
    Citra  joined 10 Jan, left 15 Mar                   not a member on 31 Mar
    Dedi   joined 5 Mar, TIDAK (HAMIL) since Mar        member, not KB (pregnant), present
    Eka    joined 20 Feb, no status before Apr          member, in no KB column
    Fajar  joined 10 Jan, left 31 Mar                   not a member on 31 Mar
    """
    ani = make_member(group_a, joined_on=dt.date(2024, 1, 10)).household
    budi = make_member(group_a, joined_on=dt.date(2024, 1, 10)).household
    citra = make_member(group_a, joined_on=dt.date(2024, 1, 10), left_on=dt.date(2024, 3, 15)).household
    dedi = make_member(group_a, joined_on=dt.date(2024, 3, 5)).household
    eka = make_member(group_a, joined_on=dt.date(2024, 2, 20)).household
    make_member(group_a, joined_on=dt.date(2024, 1, 10), left_on=dt.date(2024, 3, 31))  # Fajar: gone on the 31st
    KbStatus.objects.all().delete()
    for household, period, method, reason in [
        (ani, dt.date(2024, 1, 1), "PIL", ""), (budi, dt.date(2024, 1, 1), "TIDAK", "IAS"),
        (budi, dt.date(2024, 3, 1), "IUD", ""), (citra, dt.date(2024, 1, 1), "SUNTIK", ""),
        (dedi, dt.date(2024, 3, 1), "TIDAK", "HAMIL"), (eka, dt.date(2024, 4, 1), "PIL", ""),
    ]:
        KbStatus.objects.create(household=household, period=period, method=method, reason=reason)
    first = Meeting.objects.create(group=group_a, held_on=dt.date(2024, 3, 6), mode="TATAP_MUKA", topic="KB")
    first.attendees.set([ani, dedi, citra])
    Meeting.objects.create(group=group_a, held_on=dt.date(2024, 3, 20), mode="VIRTUAL", topic="Pemasaran")
    Meeting.objects.create(group=group_a, held_on=dt.date(2024, 4, 2), mode="TATAP_MUKA", topic="April")
    MonthlyReport.objects.create(group=group_a, period=dt.date(2024, 3, 1), submitted_at=dt.datetime(2024, 4, 2, tzinfo=dt.UTC))

    city = recap(dt.date(2024, 3, 1))[("city", None)]
    assert (city.groups, city.groups_reported, city.meetings, city.face_to_face, city.virtual) == (1, 1, 2, 1, 1)
    assert (city.members, city.present) == (4, 2)  # Citra left; she was present but is no member on 31 Mar
    assert (city.acceptors, city.by_method["PIL"], city.by_method["IUD"], city.mkjp) == (2, 1, 1, 1)
    assert (city.new_acceptors, city.acceptors_after_joining) == (1, 1)  # Budi
    assert city.by_reason == {"HAMIL": 1, "IAS": 0, "IAT": 0, "TIAL": 0, "LAINNYA": 0}  # Dedi; Eka in none
    assert recap(dt.date(2024, 3, 1)) == reference(dt.date(2024, 3, 1))


# The page, the workbook and the command ------------------------------------------------

import io  # noqa: E402

from django.core.management import call_command  # noqa: E402
from openpyxl import load_workbook  # noqa: E402

from reports.recap import HEADERS  # noqa: E402


@pytest.fixture
def two_opds(group_a, group_b):
    """March 2024: a member in each OPD's group, one meeting in group A, A reported."""
    ani = make_member(group_a, head_name="Ani", joined_on=dt.date(2024, 1, 10), kb_method="IUD").household
    make_member(group_b, head_name="Bahar", joined_on=dt.date(2024, 1, 10), kb_method="TIDAK")
    meeting = Meeting.objects.create(group=group_a, held_on=dt.date(2024, 3, 6), mode="TATAP_MUKA", topic="KB")
    meeting.attendees.set([ani])
    MonthlyReport.objects.create(group=group_a, period=dt.date(2024, 3, 1), submitted_at=dt.datetime(2024, 4, 2, 1, tzinfo=dt.UTC))


@pytest.mark.django_db
def test_dppkb_reads_the_city_recap_and_each_opd_only_its_own(client, dppkb_user, opd_user, cadre_b, two_opds, django_assert_max_num_queries):
    client.force_login(dppkb_user)
    with django_assert_max_num_queries(20):
        html = client.get("/reports/rekap/?as_of=2024-03").content.decode()
    assert "Rekap bulanan Maret 2024" in html and "KWT-A" in html and "NEL-B" in html
    assert "OPD DISTAN – Dinas Pertanian" in html and "OPD DISKAN" in html
    client.force_login(opd_user)  # DISTAN
    html = client.get("/reports/rekap/?as_of=2024-03").content.decode()
    assert "KWT-A" in html and "NEL-B" not in html and "DISKAN" not in html
    assert client.get("/reports/rekap/?as_of=2024-03&opd=DISKAN").status_code == 400
    client.force_login(cadre_b)
    html = client.get("/reports/rekap/?as_of=2024-03").content.decode()
    assert "NEL-B" in html and "KWT-A" not in html


@pytest.mark.django_db
def test_the_recap_workbook_has_the_sheets_and_headers_of_the_spec(client, opd_user, two_opds):
    client.force_login(opd_user)
    response = followed(client.get("/reports/rekap.xlsx?as_of=2024-03"))
    assert response["Content-Disposition"].endswith('rekap-uppka-distan-2024-03.xlsx"')
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["Rekap", "Rekap Kelurahan", "Kelompok"]
    rekap = [list(r) for r in book["Rekap"].iter_rows(values_only=True)]
    top = next(i for i, r in enumerate(rekap) if r[:2] == ["Cakupan", "Kelompok"])
    assert rekap[top] == ["Cakupan", *HEADERS]
    lines = {r[0]: r[1:] for r in rekap[top + 1:]}
    first = rekap[top + 1]
    assert first[0] == "OPD DISTAN – Dinas Pertanian"  # the OPD's own recap: its groups only
    assert first[1:9] == [1, 1, 1, 1, 0, 1, 1, 1]  # groups, reported, meetings, face, virtual, members, present, acceptors
    assert first[HEADERS.index("IUD") + 1] == 1 and first[HEADERS.index("MKJP") + 1] == 1
    assert not any("DISKAN" in label for label in lines)
    kelurahan = [list(r) for r in book["Rekap Kelurahan"].iter_rows(values_only=True)]
    assert kelurahan[0] == ["Kode Kecamatan", "Kecamatan", "Kode Kelurahan", "Kelurahan", *HEADERS]
    assert kelurahan[1][0] == "73.73.01" and kelurahan[1][2].startswith("73.73.01.")
    groups = [list(r) for r in book["Kelompok"].iter_rows(values_only=True)]
    assert groups[0] == ["Kode Kelompok", "Nama Kelompok", "Kelurahan", "Melapor", "Tanggal Lapor",
                         *HEADERS[HEADERS.index("Pertemuan"):]]
    assert groups[1][:4] == ["KWT-A", "KWT Melati", groups[1][2], "Ya"] and groups[1][4].date() == dt.date(2024, 4, 2)


@pytest.mark.django_db
def test_export_recap_writes_the_city_workbook(tmp_path, two_opds):
    out = tmp_path / "rekap.xlsx"
    call_command("export_recap", month="2024-03", out=str(out), stdout=io.StringIO())
    rekap = [list(r) for r in load_workbook(out)["Rekap"].iter_rows(values_only=True)]
    top = next(i for i, r in enumerate(rekap) if r[:2] == ["Cakupan", "Kelompok"])
    assert rekap[top + 1][0] == "Kota Palopo" and rekap[top + 1][1:3] == [2, 1]  # two groups, one reported
    groups = [list(r) for r in load_workbook(out)["Kelompok"].iter_rows(values_only=True)]
    assert [g[3] for g in groups[1:]] == ["Ya", "Tidak"]


@pytest.mark.django_db
def test_the_dashboard_shows_the_months_register_and_family_planning(client, dppkb_user, group_a, group_b):
    """The reporting month (last month) in group A: Ani PIL, Budi TIDAK since joining then
    IUD this month, Dedi TIDAK (pregnant); one meeting, Ani present; A reported. Group B has
    a member and has not reported."""
    from households.register import record_kb_status
    from households.sheet import reporting_month
    from uppka.months import month_before

    month = reporting_month()
    joined = month_before(month).replace(day=10)
    ani = make_member(group_a, joined_on=joined, kb_method="PIL").household
    budi = make_member(group_a, joined_on=joined, kb_method="TIDAK").household
    make_member(group_a, joined_on=joined, kb_method="TIDAK")
    make_member(group_b, joined_on=joined, kb_method="PIL")
    record_kb_status(household_id=budi.pk, period=month, method="IUD", reason=None, by=None)
    meeting = Meeting.objects.create(group=group_a, held_on=month.replace(day=2), mode="TATAP_MUKA", topic="KB")
    meeting.attendees.set([ani])
    MonthlyReport.objects.create(group=group_a, period=month, submitted_at=dt.datetime.now(dt.UTC))

    client.force_login(dppkb_user)
    html = client.get("/reports/dashboard/").content.decode()
    card = " ".join(html[html.index('id="register-card"'):].split())
    assert "1 / 2</div>kelompok melapor (50,0%)" in card
    assert "1</div>pertemuan" in card
    assert "3</div>akseptor (75,0% dari 4 keluarga anggota)" in card
    assert "33,3%</div>akseptor memakai MKJP" in card  # Budi's IUD among three acceptors
    assert "1</div>peserta KB baru bulan ini" in card
    assert "1</div>menjadi akseptor setelah bergabung" in card
    assert f'Belum melapor: <a href="/reports/kelompok/{group_b.code}/">{group_b.code}</a>' in card
    assert f">{group_a.code}</a> (" not in card.split("Belum melapor:")[1].split("</div>")[0]
