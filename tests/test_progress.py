"""Long work tells how far it is (uppka/progress.py): the workbook's rows are counted as
they are written, stage by stage; nobody listening costs nothing."""

import io

import pytest

from reports.export import export_report
from tests.factories import make_member
from uppka import progress
from uppka.months import this_month


@pytest.mark.django_db
def test_the_report_workbook_tells_its_stages_and_counts_its_rows(group_a):
    for n in range(3):
        make_member(group_a, head_name=f"Anggota {n}")
    heard = []
    with progress.listening(lambda stage, done, total: heard.append((stage, done, total)), every=0):
        export_report(io.BytesIO(), groups=group_a.__class__.objects.all(), as_of=this_month(), made_by="uji", cleaned={})
    stages = [stage for stage, _done, _total in heard]
    assert stages.index("query") < stages.index("rows")
    # Written: the scope lines, the group, its three families (at least); counted as they go.
    assert max(done for stage, done, _ in heard if stage == "rows") >= 4


def test_without_a_listener_the_work_runs_as_before():
    assert list(progress.counted(range(3))) == [0, 1, 2]
    progress.stage("rows")
    progress.step()
