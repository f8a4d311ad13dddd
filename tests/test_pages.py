"""The base pages: login in Indonesian, a landing page per role, scope on each."""

import pytest
from django.urls import reverse

from tests.factories import make_user


@pytest.mark.django_db
def test_login_page_is_in_indonesian(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="id"' in html
    assert "Masuk" in html and "Nama pengguna" in html and "Sandi" in html
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html  # served locally, no CDN
    assert "cdn" not in html.lower()


@pytest.mark.django_db
def test_login_with_wrong_password_says_so_in_indonesian(client, cadre_a):
    response = client.post("/accounts/login/", {"username": "kader_a", "password": "salah"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Isian nama pengguna atau kata sandi salah." in html
    assert "nama pengguna nama pengguna" not in html  # Django's own translation doubled it
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona, landing",
    [
        ("cadre_a", "households:cadre_home"),
        ("opd_user", "reports:index"),
        ("dppkb_user", "reports:dashboard"),
        ("admin_user", "admin:index"),
    ],
)
def test_login_lands_each_role_on_its_page(client, request, persona, landing):
    request.getfixturevalue(persona)
    username = {"cadre_a": "kader_a", "opd_user": "opd_distan", "dppkb_user": "dppkb_staff", "admin_user": "root"}
    response = client.post(
        "/accounts/login/", {"username": username[persona], "password": "test-pass-123"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse(landing)
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/kader/", "/reports/", "/reports/dashboard/"])
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.django_db
def test_account_without_role_is_told_to_ask_for_one(client):
    client.force_login(make_user(role="", username="norole"))
    response = client.get("/")
    assert response.status_code == 403
    assert "belum memiliki peran" in response.content.decode()


@pytest.mark.django_db
def test_cadre_home_lists_only_the_cadres_groups(client, cadre_a, member_a, group_b):
    client.force_login(cadre_a)
    html = client.get("/kader/").content.decode()
    assert "KWT Melati" in html and "0 dari 1 anggota" in html
    assert "Nelayan Bahari" not in html


@pytest.mark.django_db
def test_dashboard_shows_target_progress(client, dppkb_user, member_a, group_b):
    from django.utils import timezone

    from groups.models import Target

    Target.objects.create(year=timezone.localdate().year, households=4)
    client.force_login(dppkb_user)
    response = client.get("/reports/dashboard/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 / 4" in html and "25,0%" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona, url",
    [
        ("cadre_a", "/reports/dashboard/"),
        ("opd_user", "/reports/dashboard/"),
        ("opd_user", "/kader/"),
        ("dppkb_user", "/kader/"),
        ("cadre_a", "/admin/"),
        ("opd_user", "/admin/"),
    ],
)
def test_roles_cannot_open_other_roles_pages(client, request, persona, url):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(url)
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_navigation_depends_on_the_role(client, cadre_a, dppkb_user):
    client.force_login(cadre_a)
    html = client.get("/kader/").content.decode()
    assert "Kelompok saya" in html and "Dasbor" not in html and "Data induk" not in html
    client.force_login(dppkb_user)
    html = client.get("/reports/dashboard/").content.decode()
    assert "Dasbor" in html and "Data induk" in html and "Kelompok saya" not in html


@pytest.mark.django_db
def test_pages_have_no_inline_scripts(client, dppkb_user):
    client.force_login(dppkb_user)
    html = client.get("/reports/dashboard/").content.decode()
    assert "<script>" not in html and "onclick=" not in html


@pytest.mark.django_db
def test_logout_is_a_post_and_ends_the_session(client, cadre_a):
    client.force_login(cadre_a)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/kader/").status_code == 302


@pytest.mark.django_db
def test_pages_are_indonesian_even_when_the_browser_asks_for_english(client):
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Nama pengguna" in html


@pytest.mark.django_db
def test_user_can_switch_to_english_and_back(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert "Username" in client.get("/accounts/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "id", "next": "/accounts/login/"})
    assert "Nama pengguna" in client.get("/accounts/login/").content.decode()
