"""/healthz: 200 "ok" with a reachable database, 503 without; any Host, plain HTTP, no login."""

from unittest import mock

import pytest
from django.db import OperationalError


@pytest.fixture
def production_like(settings):
    settings.ALLOWED_HOSTS = ["uppka.palopokota.go.id"]
    settings.SECURE_SSL_REDIRECT = True


@pytest.mark.django_db
def test_healthz_answers_ok_to_a_probe_by_address_over_plain_http(client, production_like):
    response = client.get("/healthz", HTTP_HOST="10.0.0.5:8000")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Cache-Control"] == "no-store"
    assert "sessionid" not in response.cookies


@pytest.mark.django_db
def test_other_pages_still_refuse_an_unknown_host(client, production_like):
    assert client.get("/accounts/login/", HTTP_HOST="10.0.0.5:8000").status_code == 400


@pytest.mark.django_db
def test_other_pages_still_redirect_to_https(client, production_like):
    response = client.get("/accounts/login/", HTTP_HOST="uppka.palopokota.go.id")
    assert response.status_code == 301 and response["Location"].startswith("https://")


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_is_down(client, caplog):
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.content == b"database unavailable\n"
    assert "database is not reachable" in caplog.text


def test_a_refused_host_is_one_warning_line_without_traceback(client, production_like, capfd, db):
    import logging

    record = logging.LogRecord("django.security.DisallowedHost", logging.ERROR, __file__, 1, "Invalid HTTP_HOST", None,
                               (ValueError, ValueError("x"), None))
    from uppka.errors import WithoutTraceback

    assert WithoutTraceback().filter(record) and record.exc_info is None


@pytest.mark.django_db
def test_error_mails_leave_out_what_users_typed(rf, settings):
    import sys

    from django.views.debug import ExceptionReporter

    request = rf.post("/kelompok/", {"nik": "7373010101900001", "amount": "1250000"})
    nik = "7373010101900001"  # noqa: F841 - a local variable the report must not show
    try:
        raise ValueError("boom")
    except ValueError:
        text = ExceptionReporter(request, *sys.exc_info()).get_traceback_text()
    assert "boom" in text
    assert "7373010101900001" not in text and "1250000" not in text
