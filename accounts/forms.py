from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    # Django's own Indonesian message reads "Masukkan nama pengguna nama pengguna …" (it
    # puts the field's name after a word that already says it).
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The %(username)s or the password is wrong. Capital and small letters count."),
    }
