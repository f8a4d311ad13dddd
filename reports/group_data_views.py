"""The group data page and workbook (SPEC section 9): what officials ask of the groups'
yearly data, for the groups the user may see."""

from django import forms
from django.core.validators import MaxValueValidator
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import AccessLog
from groups.models import Group, Opd
from households.profiles import FIRST_YEAR, current_year
from jobs.models import Job
from jobs.views import start_job
from reports.group_data import summary
from reports.workbook_jobs import group_data_file_name, group_data_scope


class GroupDataForm(forms.Form):
    """A year (this one by default) and, for whoever sees several OPD, one of them."""

    year = forms.IntegerField(label=gettext_lazy("Year"), required=False, min_value=FIRST_YEAR)
    opd = forms.ModelChoiceField(Opd.objects.none(), to_field_name="code", required=False, label=gettext_lazy("OPD"))

    def __init__(self, data=None, *, user):
        super().__init__(data)
        self.groups = Group.objects.visible_to(user)
        self.fields["year"].validators.append(MaxValueValidator(current_year()))
        self.fields["year"].widget.attrs.update({"min": FIRST_YEAR, "max": current_year()})
        self.fields["opd"].queryset = Opd.objects.all() if user.sees_whole_city else Opd.objects.filter(
            pk__in=self.groups.values("team__opd"))
        self.fields["opd"].empty_label = gettext_lazy("All")
        self.fields["opd"].error_messages["invalid_choice"] = _("You cannot see the data of this OPD.")

    def clean_year(self):
        return self.cleaned_data["year"] or current_year()

    def selected_groups(self):
        opd = self.cleaned_data.get("opd")
        return self.groups.filter(team__opd=opd) if opd else self.groups


@login_required
def group_data(request):
    """The year's data of the groups in scope: by business field and channel, capital by
    source, the groups without data, and those with market problems and one channel."""
    form = GroupDataForm(request.GET or None, user=request.user)
    if request.GET and not form.is_valid():
        return render(request, "reports/group_data.html", {"form": form}, status=400)
    year = form.cleaned_data["year"] if request.GET else current_year()
    groups = form.selected_groups() if request.GET else form.groups
    context = {"form": form, "year": year, "data": summary(groups, year), "query": request.GET.urlencode()}
    return render(request, "reports/group_data.html", context)


@login_required
def group_data_export(request):
    """The `Data Kelompok` workbook: DPPKB the city, an OPD its groups, a cadre theirs."""
    form = GroupDataForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, "reports/group_data.html", {"form": form}, status=400)
    year, opd = form.cleaned_data["year"], form.cleaned_data.get("opd")
    AccessLog.record(request, AccessLog.Action.EXPORT_REPORT, f"Data Kelompok {year}; {group_data_scope(opd, request.user)}")
    return start_job(request, Job.Kind.GROUP_DATA, group_data_file_name(year, opd, request.user),
                     {"query": request.GET.urlencode()}, fallback="reports:group_data")
