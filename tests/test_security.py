"""Login protection, security headers, sessions."""

import pytest
from django.conf import settings


def login(client, password):
    return client.post("/accounts/login/", {"username": "kader_a", "password": password})


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_account_for_a_while(client, cadre_a):
    for _ in range(4):
        assert login(client, "salah").status_code == 200
    assert login(client, "salah").status_code == 429  # the fifth failure locks
    response = login(client, "test-pass-123")  # even the right password, for now
    assert response.status_code == 429
    assert "Terlalu banyak percobaan masuk yang gagal" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_successful_login_resets_the_count(client, cadre_a):
    for _ in range(4):
        login(client, "salah")
    assert login(client, "test-pass-123").status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        login(client, "salah")
    assert login(client, "test-pass-123").status_code == 302


@pytest.mark.django_db
def test_pages_send_a_strict_content_security_policy_and_refuse_framing(client, cadre_a):
    client.force_login(cadre_a)
    response = client.get("/kader/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_sessions_expire():
    assert settings.SESSION_COOKIE_AGE <= 12 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert settings.SESSION_COOKIE_HTTPONLY


@pytest.mark.django_db
def test_password_can_be_changed_with_the_validators(client, cadre_a):
    client.force_login(cadre_a)
    response = client.post("/accounts/password/", {
        "old_password": "test-pass-123", "new_password1": "12345678", "new_password2": "12345678",
    })
    assert response.status_code == 200 and "terlalu umum" in response.content.decode()
    response = client.post("/accounts/password/", {
        "old_password": "test-pass-123", "new_password1": "Sayur-Organik-2021", "new_password2": "Sayur-Organik-2021",
    })
    assert response.status_code == 302
    cadre_a.refresh_from_db()
    assert cadre_a.check_password("Sayur-Organik-2021")
