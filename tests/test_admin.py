"""The Django admin: every model, in Indonesian, deactivation instead of deletion."""

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.models import AccessLog
from accounts.services import create_user
from households.models import Household, IncomeReading
from tests.factories import make_member, make_reading

REGISTERED = [model for model in admin.site._registry if model._meta.app_label in {"accounts", "groups", "households"}]


@pytest.fixture
def data(group_a):
    member = make_member(group_a, head_name="Hasnah Daeng")
    make_reading(member.household, member.joined_on.replace(day=1), 1_500_000)
    return member


def test_every_domain_model_is_in_the_admin():
    names = {m.__name__ for m in REGISTERED}
    assert {
        "User", "Kecamatan", "Kelurahan", "Opd", "WorkingTeam", "GroupType", "Group", "GroupProblem",
        "Target", "PovertyLine", "Household", "Membership", "IncomeReading",
    } <= names


@pytest.mark.django_db
@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m.__name__)
def test_admin_lists_and_forms_open_for_every_model(admin_client, data, model):
    info = (model._meta.app_label, model._meta.model_name)
    changelist = admin_client.get(reverse("admin:%s_%s_changelist" % info), {"q": "a"})
    assert changelist.status_code == 200
    read_only = model is AccessLog  # evidence: nobody adds or edits log entries
    assert admin_client.get(reverse("admin:%s_%s_add" % info)).status_code == (403 if read_only else 200)
    obj = model.objects.first()
    if obj is not None:
        assert admin_client.get(reverse("admin:%s_%s_change" % info, args=[obj.pk])).status_code == 200


@pytest.mark.django_db
def test_admin_is_in_indonesian(admin_client):
    html = admin_client.get(reverse("admin:households_household_changelist")).content.decode()
    assert "Rumah tangga" in html or "Keluarga" in html


@pytest.mark.django_db
@pytest.mark.parametrize("model", [Household, IncomeReading])
def test_households_and_readings_cannot_be_deleted_in_the_admin(admin_client, data, model):
    obj = model.objects.first()
    url = reverse(f"admin:households_{model._meta.model_name}_delete", args=[obj.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


@pytest.mark.django_db
def test_deactivate_action_keeps_the_household_and_records_history(admin_client, data):
    household = data.household
    admin_client.post(
        reverse("admin:households_household_changelist"),
        {"action": "deactivate", "_selected_action": [household.pk]},
    )
    household.refresh_from_db()
    assert household.is_active is False
    assert household.history.first().is_active is False


@pytest.mark.django_db
def test_dppkb_staff_sees_the_whole_nik_in_the_admin(client, data):
    user = create_user(username="dppkb1", role="dppkb", password="x", validate=False)
    client.force_login(user)
    html = client.get(reverse("admin:households_household_changelist")).content.decode()
    assert data.household.head_nik in html


@pytest.mark.django_db
def test_household_list_query_count_does_not_grow(admin_client, group_a, django_assert_max_num_queries):
    for _ in range(30):
        make_member(group_a)
    with django_assert_max_num_queries(12):
        admin_client.get(reverse("admin:households_household_changelist"))
