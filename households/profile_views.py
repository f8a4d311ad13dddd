"""Filling in a group's data by year (SPEC section 9) from the group page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from groups.shortcuts import get_group_for
from households.models import GroupProfile
from households.profile_forms import GroupProfileForm
from households.profiles import chair_is_acceptor, save_profile, starting_point, years_open


@login_required
def profile(request, code, year):
    """The group's data for a year: its cadres, its OPD and DPPKB fill it in or correct it;
    without data for the year, last year's answers are the starting point."""
    group = get_group_for(request.user, code)
    if year not in years_open():
        raise Http404(_("No group data for that year."))
    saved = GroupProfile.objects.filter(group=group, year=year).first()
    earlier, initial = (None, {}) if saved else starting_point(group, year)
    if request.method == "POST":
        form = GroupProfileForm(request.POST, group=group, year=year)
        if form.is_valid():
            saved = save_profile(group=group, year=year, values=form.values(),
                                 channels=form.cleaned_data["channels"], by=request.user)
            messages.success(request, _("The group data for %(year)s was saved.") % {"year": year})
            if chair_is_acceptor(saved) is False:
                messages.warning(request, _("The chair's family is not an acceptor: BKKBN expects the chair of an "
                                            "UPPKA group to use a family-planning method."))
            return redirect(reverse("households:group_members", kwargs={"code": group.code}) + "#data")
    else:
        form = GroupProfileForm.for_profile(saved, initial=initial, group=group, year=year)
    context = {"group": group, "year": year, "saved": saved, "earlier": earlier, "form": form}
    return render(request, "households/profile_form.html", context)
