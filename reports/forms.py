import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from groups.models import Group, GroupProblem, GroupType, Kecamatan, Kelurahan, Opd, Target
from households.parsing import parse_period
from uppka.months import month_not_in_future, not_in_future, this_month


class MonthField(forms.CharField):
    """A month as ``YYYY-MM`` (what ``<input type="month">`` sends)."""

    widget = forms.TextInput(attrs={"type": "month"})

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        return month_not_in_future(parse_period(value))


class ReportFilterForm(forms.Form):
    """Which groups a report covers, as of which month. Choices are limited to what the
    user may see: an OPD user asking for another OPD gets an error, not a wider report."""

    as_of = MonthField(label=gettext_lazy("As of month"), required=False)
    opd = forms.ModelChoiceField(Opd.objects.none(), to_field_name="code", required=False, label=gettext_lazy("OPD"))
    group_type = forms.ModelChoiceField(
        GroupType.objects.all(), to_field_name="code", required=False, label=gettext_lazy("Group type")
    )
    kecamatan = forms.ModelChoiceField(
        Kecamatan.objects.all(), to_field_name="code", required=False, label=gettext_lazy("Kecamatan")
    )
    kelurahan = forms.ModelChoiceField(
        Kelurahan.objects.order_by("name"), to_field_name="code", required=False, label=gettext_lazy("Kelurahan")
    )

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        self.groups = Group.objects.visible_to(user)
        self.fields["opd"].queryset = Opd.objects.filter(
            pk__in=self.groups.values("team__opd")
        ) if not user.sees_whole_city else Opd.objects.all()
        self.fields["opd"].empty_label = gettext_lazy("All")
        for name in ("group_type", "kecamatan", "kelurahan"):
            self.fields[name].empty_label = gettext_lazy("All")
        self.fields["opd"].error_messages["invalid_choice"] = _("You cannot see the report of this OPD.")
        self.fields["kecamatan"].queryset = Kecamatan.objects.order_by("name")

    def kelurahan_options(self):
        """(code, name, kecamatan code) in name order: the page shows only the chosen
        kecamatan's (static/js/uppka.js), and offers them all without JavaScript."""
        return Kelurahan.objects.order_by("name").values_list("code", "name", "kecamatan__code")

    def clean_as_of(self):
        return self.cleaned_data["as_of"] or this_month()

    def clean(self):
        data = super().clean()
        kecamatan, kelurahan = data.get("kecamatan"), data.get("kelurahan")
        if kecamatan and kelurahan and kelurahan.kecamatan_id != kecamatan.pk:
            self.add_error("kelurahan", _("This kelurahan is not in the chosen kecamatan."))
        return data

    def is_whole_city(self) -> bool:
        """Whether the selection is every group of the city (a user who sees it, no filter)."""
        return self.user.sees_whole_city and not any(
            self.cleaned_data.get(name) for name in ("opd", "group_type", "kecamatan", "kelurahan"))

    def city_target(self, year: int):
        """The year's Target when the selection is the whole city (the target is the city's,
        so an OPD's or an area's figures are never set against it); else None."""
        return Target.objects.filter(year=year).first() if self.is_whole_city() else None

    def selected_groups(self):
        """The groups the report covers: the user's visible groups narrowed by the filters
        (area filters select groups by where they are based)."""
        groups = self.groups
        data = self.cleaned_data
        if data.get("opd"):
            groups = groups.filter(team__opd=data["opd"])
        if data.get("group_type"):
            groups = groups.filter(group_type=data["group_type"])
        if data.get("kecamatan"):
            groups = groups.filter(kelurahan__kecamatan=data["kecamatan"])
        if data.get("kelurahan"):
            groups = groups.filter(kelurahan=data["kelurahan"])
        return groups

    def query_string(self, **changes) -> str:
        """The current filters as a query string, with some changed (for links and sorting)."""
        query = QueryDict(mutable=True)
        for name in ("as_of", "opd", "group_type", "kecamatan", "kelurahan"):
            value = changes.get(name, self.data.get(name))
            if value:
                query[name] = value
        return query.urlencode()


class ProblemForm(forms.ModelForm):
    class Meta:
        model = GroupProblem
        fields = ["kind", "noted_on", "description"]
        widgets = {
            "noted_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "description": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["noted_on"].initial = timezone.localdate()

    def clean_noted_on(self):
        day = self.cleaned_data["noted_on"]
        not_in_future(day)
        if day < dt.date(2000, 1, 1):
            raise ValidationError(_("The date is too far in the past."))
        return day
