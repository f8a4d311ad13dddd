import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from tests.factories import make_group


@pytest.fixture
def password(monkeypatch):
    monkeypatch.setenv("DJANGO_USER_PASSWORD", "Kelompok-Melati-2021")
    return "Kelompok-Melati-2021"


@pytest.mark.django_db
def test_creates_a_cadre_assigned_to_groups(password):
    make_group(code="KWT-01")
    make_group(code="KWT-02")
    call_command("createuser", "ani", "--role", "kader", "--groups", "KWT-01,KWT-02")
    user = User.objects.get(username="ani")
    assert user.is_kader and user.check_password(password)
    assert sorted(user.assigned_groups.values_list("code", flat=True)) == ["KWT-01", "KWT-02"]
    assert not user.is_staff


@pytest.mark.django_db
def test_creates_an_opd_user_of_one_opd(password):
    call_command("createuser", "budi", "--role", "opd", "--opd", "DISTAN")
    user = User.objects.get(username="budi")
    assert user.is_opd and user.opd.code == "DISTAN"


@pytest.mark.django_db
def test_dppkb_user_gets_the_admin_for_master_data_but_cannot_delete(password):
    call_command("createuser", "citra", "--role", "dppkb")
    user = User.objects.get(username="citra")
    assert user.is_dppkb and user.is_staff and not user.is_superuser
    assert user.has_perm("groups.change_group") and user.has_perm("households.add_household")
    assert not user.has_perm("households.delete_household")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, message",
    [
        (["x", "--role", "opd"], "--opd"),
        (["x", "--role", "opd", "--opd", "NOPE"], "NOPE"),
        (["x", "--role", "kader", "--groups", "KWT-404"], "KWT-404"),
        (["x", "--role", "dppkb", "--groups", "KWT-01"], "Hanya kader"),
    ],
)
def test_bad_arguments_give_a_clear_error_and_create_nothing(password, args, message):
    make_group(code="KWT-01")
    with pytest.raises(CommandError, match=message):
        call_command("createuser", *args)
    assert not User.objects.filter(username="x").exists()


@pytest.mark.django_db
def test_weak_password_is_refused(monkeypatch):
    monkeypatch.setenv("DJANGO_USER_PASSWORD", "12345")
    with pytest.raises(CommandError):
        call_command("createuser", "dedi", "--role", "dppkb")
    assert not User.objects.filter(username="dedi").exists()


@pytest.mark.django_db
def test_existing_user_is_not_overwritten(password):
    call_command("createuser", "eka", "--role", "dppkb")
    with pytest.raises(CommandError, match="sudah ada"):
        call_command("createuser", "eka", "--role", "kader")
    assert User.objects.get(username="eka").is_dppkb


@pytest.mark.django_db
def test_password_is_prompted_when_not_in_the_environment(monkeypatch):
    monkeypatch.delenv("DJANGO_USER_PASSWORD", raising=False)
    answers = iter(["Rahasia-Kader-99", "Rahasia-Kader-99"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    call_command("createuser", "fajar", "--role", "dppkb")
    assert User.objects.get(username="fajar").check_password("Rahasia-Kader-99")
