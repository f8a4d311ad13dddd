"""`setup_demo` (run by `make run`): every account it prints logs in with the password printed,
whatever the state of var/demo-accounts.txt and of the database."""

import io
import re

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from accounts.management.commands import setup_demo
from accounts.models import User

ACCOUNT_LINE = re.compile(r"^  (\S+)\s+(\S+)(?:\s+(.*))?$")
DEMO_USERS = {"kader1", "kader2", "opd_distan", "dppkb", "admin"}
# A file written by an earlier `make run`, against a database since deleted.
OLD_FILE = """\
  kader1       Xq3-kader1-pw  Kader KWT-00001
  kader2       Xq3-kader2-pw  Kader NEL-00002
  opd_distan   Xq3-opd-pw     OPD
  dppkb        Xq3-dppkb-pw   DPPKB
  admin        Xq3-admin-pw   Administrator (/admin/)
"""


@pytest.fixture
def accounts_file(tmp_path, monkeypatch):
    path = tmp_path / "var" / "demo-accounts.txt"
    monkeypatch.setattr(setup_demo, "ACCOUNTS_FILE", path)
    return path


def run_setup_demo():
    out = io.StringIO()
    call_command("setup_demo", households=60, stdout=out)
    return out.getvalue()


def printed_accounts(output):
    """{username: (password, rest of the line)} from the command's account list."""
    listing = output.split("Demo accounts", 1)[1]
    return {m[1]: (m[2], m[3] or "") for line in listing.splitlines() if (m := ACCOUNT_LINE.match(line))}


def logs_in(username, password):
    request = RequestFactory().post("/accounts/login/")
    return authenticate(request, username=username, password=password) is not None


@pytest.mark.django_db
def test_an_old_file_on_a_new_database_creates_the_accounts_it_lists(accounts_file):
    accounts_file.parent.mkdir()
    accounts_file.write_text(OLD_FILE, encoding="utf-8")
    accounts = printed_accounts(run_setup_demo())
    assert accounts.keys() == DEMO_USERS
    for username, (password, _rest) in accounts.items():
        assert password.startswith("Xq3-"), username  # the file's passwords, as a user has noted them
        assert logs_in(username, password), f"{username} cannot log in with the printed password"
    assert User.objects.get(username="kader1").assigned_groups.exists()
    assert User.objects.get(username="opd_distan").opd.code == "DISTAN"
    assert User.objects.get(username="admin").is_superuser
    assert accounts_file.read_text(encoding="utf-8") == OLD_FILE


@pytest.mark.django_db
def test_without_a_file_the_accounts_get_new_passwords_kept_for_the_next_run(accounts_file):
    first = printed_accounts(run_setup_demo())
    assert first.keys() == DEMO_USERS
    assert all(logs_in(username, password) for username, (password, _rest) in first.items())
    assert accounts_file.exists()
    assert printed_accounts(run_setup_demo()) == first  # the next `make run` prints the same


@pytest.mark.django_db
def test_a_password_changed_since_is_not_printed_nor_reset(accounts_file):
    """A password changed in the app is the user's: the old one is not shown as if it worked,
    and the new one is kept."""
    first = printed_accounts(run_setup_demo())
    kader = User.objects.get(username="kader1")
    kader.set_password("my-own-new-pass-2026")
    kader.save()
    again = printed_accounts(run_setup_demo())
    password, rest = again["kader1"]
    assert password != first["kader1"][0]
    assert "changed" in rest
    assert logs_in("kader1", "my-own-new-pass-2026")
    for username, (password, _rest) in again.items():
        if username != "kader1":
            assert logs_in(username, password), username
