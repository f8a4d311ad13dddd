from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views as account_views
from accounts.forms import LoginForm

urlpatterns = [
    path("", account_views.home, name="home"),
    # Log in and out, change one's own password. No e-mail password reset: DPPKB resets
    # passwords in the admin (offices here share phones more than e-mail addresses).
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("audit/", account_views.audit, name="audit"),
    path("", include("households.urls")),
    path("reports/", include("reports.urls")),
    path("pekerjaan/", include("jobs.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Browsers ask for /favicon.ico on pages without an icon link (the admin's).
    path("favicon.ico", account_views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
]
