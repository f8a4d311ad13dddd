from urllib.parse import quote

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    # Django's own Indonesian message reads "Masukkan nama pengguna nama pengguna …" (it
    # puts the field's name after a word that already says it).
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The %(username)s or the password is wrong. Capital and small letters count."),
    }


class AuditFilterForm(forms.Form):
    """What DPPKB looks for in the change history: who, what, which group or family, which
    kind of change, between which days."""

    WHAT = [
        ("", gettext_lazy("Everything")),
        ("income", gettext_lazy("Incomes")),
        ("kb_status", gettext_lazy("KB methods")),
        ("register", gettext_lazy("Meetings and monthly reports")),
        ("membership", gettext_lazy("Memberships")),
        ("household", gettext_lazy("Families")),
        ("group", gettext_lazy("Groups")),
        ("group_data", gettext_lazy("Group data by year")),
        ("target", gettext_lazy("Targets")),
        ("closed_month", gettext_lazy("Closed months")),
        ("poverty_line", gettext_lazy("Poverty lines")),
    ]
    KIND = [("", gettext_lazy("Any change")), ("+", gettext_lazy("added")), ("~", gettext_lazy("changed")),
            ("-", gettext_lazy("deleted"))]

    who = forms.CharField(label=gettext_lazy("Who (user name)"), required=False, max_length=150)
    what = forms.ChoiceField(label=gettext_lazy("What"), choices=WHAT, required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Kind of change"), choices=KIND, required=False)
    group = forms.CharField(label=gettext_lazy("Group code"), required=False, max_length=30)
    kk = forms.CharField(label=gettext_lazy("KK number"), required=False, max_length=16)
    since = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=gettext_lazy("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_kk(self):
        kk = self.cleaned_data["kk"].strip()
        if kk and not (kk.isdigit() and len(kk) == 16):
            raise forms.ValidationError(gettext_lazy("A KK number has 16 digits."))
        return kk

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", gettext_lazy("The end is before the start."))
        return data

    def described(self) -> str:
        """The filters in words, for the access log: "Oleh: kader1; Apa: Pendapatan"."""
        parts = []
        for name, field in self.fields.items():
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            if isinstance(field, forms.ChoiceField):
                value = dict(field.choices)[value]
            elif hasattr(value, "year"):
                value = date_format(value, "j F Y")
            parts.append(f"{field.label}: {value}")
        return "; ".join(parts) or str(gettext_lazy("everything"))

    def query_string(self) -> str:
        return "&".join(f"{name}={quote(str(self.data[name]))}" for name in self.fields if self.data.get(name))
