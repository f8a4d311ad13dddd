"""Cadre pages: their groups, the monthly entry sheet, registering and following households."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from groups.models import Group
from groups.shortcuts import get_group_for
from households import register as monthly_register
from households import printing, services, signals
from households.forms import EntrySheetForm, HouseholdForm, JoinForm, KkSearchForm, LeaveForm, MeetingForm, error_text
from households.history import change_history
from households.figures import HouseholdFigures
from households.models import ClosedMonth, Household, IncomeReading, Membership, MemberFigures, MonthlyReport
from households.parsing import parse_period
from households.profiles import profile_card
from uppka.months import month_after, month_before, months_back, this_month
from households.sheet import active_members, month_meetings, reporting_month, sheet_rows


def _get_household_for(user, pk, *, edit=False) -> Household:
    households = Household.objects.editable_by(user) if edit else Household.objects.visible_to(user)
    return get_object_or_404(households.select_related("kelurahan__kecamatan"), pk=pk)


def _can_edit(user, group) -> bool:
    """Whether the user may change this (visible) group's households and income."""
    return Group.objects.editable_by(user).filter(pk=group.pk).exists()


def _period_or_404(text: str) -> dt.date:
    try:
        return parse_period(text)
    except ValidationError as e:
        raise Http404(e.messages[0]) from e


@login_required
def register_print(request, code, month):
    """The group's monthly register as an A4 PDF to sign and hand in (SPEC section 8): for
    everyone who may see the group. It names the families, so the access log records it."""
    group = get_group_for(request.user, code)
    period = _period_or_404(month)
    if period > this_month():
        raise Http404(_("That month has not happened yet."))
    signals.personal_data_accessed.send(
        register_print, request=request, action=signals.PRINT_REGISTER, target=f"{group.code} {period:%Y-%m}"
    )
    response = HttpResponse(printing.register_pdf(group, period), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="register-{group.code.lower()}-{period:%Y-%m}.pdf"'
    return response


@login_required
def cadre_home(request):
    """A cadre's groups, each with last month's completeness and who has not reported."""
    if not request.user.is_kader:
        raise PermissionDenied
    period = reporting_month()
    groups = list(
        Group.objects.visible_to(request.user).active().select_related("group_type", "kelurahan").order_by("code")
    )
    reported = set(
        IncomeReading.objects.filter(
            period=period, household__memberships__group__in=groups
        ).values_list("household_id", flat=True)
    )
    members = {g.id: [] for g in groups}
    for m in active_members([g.id for g in groups], period).order_by("household__head_name"):
        members[m.group_id].append(m)
    for group in groups:
        group.active_count = len(members[group.id])
        group.missing = [m.household for m in members[group.id] if m.household_id not in reported]
        group.reported_count = group.active_count - len(group.missing)
        group.percent = group.reported_count * 100 / group.active_count if group.active_count else None
    context = {"groups": groups, "period": period, "closed": ClosedMonth.objects.is_closed(period)}
    return render(request, "households/cadre_home.html", context)


@login_required
def group_members(request, code):
    group = get_group_for(request.user, code)
    today = timezone.localdate()
    memberships = (
        Membership.objects.filter(group=group).select_related("household").order_by("household__head_name")
    )
    context = {
        "group": group,
        "memberships": memberships,
        "today": today,
        "can_edit": _can_edit(request.user, group),
        "period": reporting_month(),
        **profile_card(group, request.user),
    }
    return render(request, "households/group_members.html", context)


@login_required
def entry_sheet_default(request, code):
    group = get_group_for(request.user, code)
    return redirect("households:entry_sheet", code=group.code, month=f"{reporting_month():%Y-%m}")


@login_required
def entry_sheet(request, code, month):
    """Every active member of a group with an amount for the month, saved in one go."""
    group = get_group_for(request.user, code)
    period = _period_or_404(month)
    current = this_month()
    if period > current:
        messages.error(request, _("That month has not happened yet."))
        return redirect("households:entry_sheet", code=group.code, month=f"{current:%Y-%m}")
    can_edit = _can_edit(request.user, group)
    closed = ClosedMonth.objects.is_closed(period)
    writable = _writable(request.user, can_edit=can_edit, closed=closed)
    rows = sheet_rows(group, period)
    meetings = month_meetings(group, period)
    form = EntrySheetForm(request.POST or None, rows=rows, meetings=meetings)
    sheet = f"{group.code}/{period:%Y-%m}"
    if request.method == "POST":
        if not writable:
            raise PermissionDenied
        if form.is_valid():
            _refuse_methods_reaching_a_closed_month(form, period, request.user)
        if form.is_valid():
            try:
                with transaction.atomic():
                    result = services.record_incomes(
                        period=period, amounts=form.amounts, expected=form.expected, by=request.user
                    )
                    changes = monthly_register.record_register(
                        group=group, period=period, kb_changes=form.kb_changes, present=form.present,
                        household_ids=list(form.rows), by=request.user,
                    )
            except services.ConflictError as e:
                form = _conflict_form(request.POST, group, period, e.household_ids, meetings)
            else:
                saved = _("Saved: %(created)s new, %(updated)s corrected.") % {
                    "created": result.created, "updated": result.updated}
                if changes:
                    saved += " " + _("KB method changed for %(count)s families.") % {"count": changes}
                messages.success(request, saved)
                request.session[SAVED_SHEET] = sheet  # the page's draft on the phone can go
                return redirect("households:entry_sheet", code=group.code, month=f"{period:%Y-%m}")
    just_saved = request.method == "GET" and request.session.pop(SAVED_SHEET, None) == sheet
    filled = sum(1 for row in rows if row.amount is not None)
    report = MonthlyReport.objects.filter(group=group, period=period).select_related("submitted_by").first()
    context = {
        "group": group, "period": period, "form": form, "writable": writable, "closed": closed,
        "meetings": meetings, "meeting_form": MeetingForm(period=period) if writable else None,
        "report": report, "late": report and monthly_register.is_late(report),
        "submitted_by": (report.submitted_by.get_full_name() or report.submitted_by.get_username())
        if report and report.submitted_by else "–",
        "can_edit": can_edit, "previous": month_before(period),
        "next": None if period >= current else month_after(period),
        "draft_key": f"{request.user.pk}:{sheet}", "just_saved": just_saved,
        "filled": filled, "total": len(rows), "sheet_text": _sheet_text(),
    }
    return render(request, "households/entry_sheet.html", context)


def _writable_sheet(request, code, month):
    """The group and month of a sheet the user may change now (else 403 or 404)."""
    group = get_group_for(request.user, code)
    period = _period_or_404(month)
    if period > this_month() or not _writable(
        request.user, can_edit=_can_edit(request.user, group), closed=ClosedMonth.objects.is_closed(period)
    ):
        raise PermissionDenied
    return group, period


def _writable(user, *, can_edit: bool, closed: bool) -> bool:
    """Whether the user may change a sheet's month: their group, and an open month (DPPKB
    may correct closed ones). The entry sheet and its meeting and report forms ask here."""
    return can_edit and (not closed or services.may_change_closed_months(user))


@login_required
@require_POST
def add_meeting(request, code, month):
    """A meeting of the group in the sheet's month; the sheet then shows a tick per member."""
    group, period = _writable_sheet(request, code, month)
    form = MeetingForm(request.POST, period=period)
    if form.is_valid():
        meeting = form.save(commit=False)
        meeting.group, meeting.recorded_by = group, request.user
        try:
            meeting.validate_constraints()
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
        else:
            meeting.save()
            messages.success(request, _("Meeting of %(day)s added: tick who was present, then save.") % {
                "day": date_format(meeting.held_on, "j F Y")})
    else:
        messages.error(request, error_text(form))
    return redirect("households:entry_sheet", code=group.code, month=f"{period:%Y-%m}")


@login_required
@require_POST
def submit_month(request, code, month):
    """The group's report for the month (R/I/UPPKA): who submitted it and when."""
    group, period = _writable_sheet(request, code, month)
    if period >= this_month():
        messages.error(request, _("A month is reported once it is over."))
    else:
        report = monthly_register.submit_month(group=group, period=period, by=request.user)
        messages.success(request, _("The report of %(month)s was submitted on %(day)s.") % {
            "month": date_format(period, "F Y"), "day": date_format(timezone.localtime(report.submitted_at), "j F Y")})
    return redirect("households:entry_sheet", code=group.code, month=f"{period:%Y-%m}")


SAVED_SHEET = "saved_sheet"


def _refuse_methods_reaching_a_closed_month(form, period, user) -> None:
    """A method holds from its month on: changing it in an open month would change the
    closed months after it, which only DPPKB may do."""
    if not form.kb_changes or services.may_change_closed_months(user):
        return
    closed = ClosedMonth.objects.filter(period__gt=period).order_by("period").first()
    if closed:
        message = _("%(month)s is closed, and a method changed now would change it too. Ask DPPKB.") % {
            "month": date_format(closed.period, "F Y")}
        for hid in form.kb_changes:
            form.add_error(f"kb_{hid}", message)


def _sheet_text() -> dict[str, str]:
    """What static/js/sheet.js says, translated here (the script holds no words)."""
    return {
        "count": _("%(filled)s/%(total)s filled"),
        "restored": _("What you typed at %(time)s and did not save was restored from this phone "
                      "(%(count)s rows). It is not saved yet: press Save all."),
        "left_out": _("%(count)s rows of it were left out: those members are no longer on this sheet."),
        "unsaved": _("Not saved yet: what you typed is only on this phone."),
        "saving": _("Saving…"),
        "offline_status": _("No signal: what you typed stays on this phone."),
        "save_first": _("Save the sheet first (Save all), then submit the month's report."),
        "offline": _("No connection, so nothing was saved, but nothing is lost: what you typed stays on this "
                     "phone. Press Save all again when there is signal."),
        "failed": _("The server could not save (error %(status)s). What you typed stays on this phone: "
                    "reload the page, then save again."),
    }


def _conflict_form(data, group, period, household_ids, meetings) -> EntrySheetForm:
    """The sheet again after someone else saved some of its rows: the cadre's amounts stay,
    each conflicting row shows the amount now stored and asks which one to keep."""
    rows = sheet_rows(group, period)
    stored = {row.household.id: row.amount for row in rows}
    data = data.copy()
    for hid in household_ids:
        data[f"was_{hid}"] = "" if stored.get(hid) is None else str(stored[hid])
        data.pop(f"choose_{hid}", None)
    form = EntrySheetForm(data, rows=rows, conflicts=household_ids, meetings=meetings)
    form.is_valid()
    names = ", ".join(row.household.head_name for row in rows if row.household.id in household_ids)
    form.add_error(
        None,
        _("Someone else saved this month for %(names)s after you opened the page. Nothing was saved. "
          "The saved amount is shown under yours: choose which one to keep, then save again.") % {"names": names},
    )
    return form


@login_required
def register(request, code):
    """Register a family into a group: search by KK first so nobody is registered twice.

    A family the user cannot see (registered only in other groups) looks exactly like a new
    one, so a KK number reveals nothing; registering it then needs its head's NIK as on the
    family card (checked by the service), and its recorded details are kept.
    """
    group = get_group_for(request.user, code, edit=True)
    search = KkSearchForm(request.GET or None)
    if not search.is_bound or not search.is_valid():
        return render(request, "households/register_search.html", {"group": group, "search": search})
    kk = search.cleaned_data["kk_number"]
    existing = Household.objects.filter(kk_number=kk).first()
    known = existing if existing and Household.objects.visible_to(request.user).filter(pk=existing.pk).exists() else None
    if known and known.memberships.filter(group=group).exists():
        messages.error(request, _("This family is already a member of this group."))
        return render(request, "households/register_search.html", {"group": group, "search": search})
    household_form = None if known else HouseholdForm(
        request.POST or None, initial={"kk_number": kk, "kelurahan": group.kelurahan_id, "family_size": 4}
    )
    # A known family may already have an income for the month before joining.
    join = JoinForm(request.POST or None, baseline_required=known is None,
                    earliest=services.earliest_join_for(request.user, known))
    # Both forms are checked, so every mistake shows at once.
    valid = [form.is_valid() for form in (join, household_form) if form is not None]
    if request.method == "POST" and all(valid):
        try:
            registration = services.register_household(
                group=group,
                joined_on=join.cleaned_data["joined_on"],
                baseline_amount=join.cleaned_data["baseline_amount"],
                by=request.user,
                household=existing,
                details=None if existing else {**household_form.household_details(), "kk_number": kk},
                head_nik=household_form.cleaned_data["head_nik"] if household_form else None,
                kb_reason=household_form.cleaned_data["kb_reason"] if household_form else "",
            )
        except ValidationError as e:
            _add_errors(e, [form for form in (household_form, join) if form is not None])
        else:
            _registration_messages(request, registration, household_form, group)
            return redirect("households:detail", pk=registration.household.pk)
    context = {"group": group, "kk": kk, "existing": known, "household_form": household_form, "join": join}
    if known:
        context["existing_nik"] = known.nik_for(request.user)
    return render(request, "households/register.html", context)


def _add_errors(error: ValidationError, forms) -> None:
    """Each message next to its field, in whichever form has it; the rest atop the first."""
    for field, messages_ in (error.error_dict if hasattr(error, "error_dict") else {None: error.error_list}).items():
        form = next((f for f in forms if field in f.fields), forms[0])
        form.add_error(field if field in form.fields else None, messages_)


def _registration_messages(request, registration, household_form, group):
    """``household_form``: the details the user typed (None when the family was shown)."""
    if household_form and registration.created_household:
        for warning in household_form.warnings:
            messages.warning(request, _("Warning: %(text)s") % {"text": warning})
    elif household_form:  # typed for a family registered elsewhere: the record stands
        messages.info(request, _("This family was already registered; its recorded details were kept."))
    messages.success(
        request, _("%(name)s joined %(group)s.") % {"name": registration.household.head_name, "group": group.name}
    )


@login_required
def detail(request, pk):
    """A household: details, memberships, income history with a chart, and its changes."""
    household = _get_household_for(request.user, pk)
    signals.personal_data_accessed.send(
        detail, request=request, action=signals.VIEW_HOUSEHOLD, target=f"KK {household.kk_number} – {household.head_name}"
    )
    groups = Group.objects.visible_to(request.user)
    editable_groups = set(Group.objects.editable_by(request.user).values_list("pk", flat=True))
    memberships = list(household.memberships.filter(group__in=groups).select_related("group").order_by("joined_on"))
    whole_city = request.user.sees_whole_city
    kept = {k.membership_id: k for k in MemberFigures.objects.filter(household=household)}
    for m in memberships:
        m.figures = HouseholdFigures.of(kept.get(m.pk))
        m.can_edit = m.group_id in editable_groups
        m.leave_form = LeaveForm(prefix=f"m{m.pk}") if m.can_edit and not m.left_on else None
    readings = list(household.readings.select_related("recorded_by").order_by("period"))
    chart = {
        "labels": [date_format(r.period, "M Y") for r in readings],
        "amounts": [r.amount for r in readings],
        "joins": [{"month": date_format(m.joined_on, "M Y"), "label": m.group.code} for m in memberships],
    }
    context = {
        "household": household,
        "nik": household.nik_for(request.user),
        "memberships": memberships,
        "readings": list(reversed(readings)),
        "kb_statuses": list(household.kb_statuses.order_by("-period")),
        "chart": chart,
        "history": change_history(
            household, user=request.user, memberships=None if whole_city else {m.pk for m in memberships}
        ),
        "can_edit": any(m.can_edit for m in memberships) or whole_city,
        "may_deactivate": services.may_deactivate(user=request.user, household=household),
    }
    return render(request, "households/detail.html", context)


@login_required
@require_POST
def leave(request, pk, membership_pk):
    household = _get_household_for(request.user, pk, edit=True)
    membership = get_object_or_404(
        Membership.objects.filter(group__in=Group.objects.editable_by(request.user)),
        pk=membership_pk,
        household=household,
    )
    form = LeaveForm(request.POST, prefix=f"m{membership.pk}")
    if form.is_valid():
        try:
            services.record_leaving(membership=membership, left_on=form.cleaned_data["left_on"], by=request.user)
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
        else:
            messages.success(request, _("Recorded: left %(group)s.") % {"group": membership.group.name})
    else:
        messages.error(request, error_text(form))
    return redirect("households:detail", pk=household.pk)


@login_required
@require_POST
def set_active(request, pk):
    household = _get_household_for(request.user, pk, edit=True)
    active = request.POST.get("active") == "1"
    try:
        services.set_household_active(household=household, active=active, by=request.user)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(request, _("The household is active again.") if active else _("The household was deactivated."))
    return redirect("households:detail", pk=household.pk)


@login_required
def months(request):
    """DPPKB closes a month once its register is in, and can reopen it."""
    if not request.user.sees_whole_city:
        raise PermissionDenied
    if request.method == "POST":
        period = _period_or_404(request.POST.get("month", ""))
        try:
            if request.POST.get("action") == "close":
                if request.POST.get("confirm") != "1":  # closing follows a look at the register
                    messages.error(request, _("Check the month's register, then confirm closing it."))
                    return redirect("reports:month", month=f"{period:%Y-%m}")
                services.close_month(period=period, by=request.user)
                messages.success(request, _("%(month)s is closed.") % {"month": date_format(period, "F Y")})
            else:
                if request.POST.get("confirm") != "1":
                    messages.error(request, _("Tick the box to confirm reopening the month."))
                    return redirect("households:months")
                services.reopen_month(period=period, by=request.user)
                messages.success(request, _("%(month)s is open again.") % {"month": date_format(period, "F Y")})
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
        return redirect("households:months")
    closed = {c.period: c for c in ClosedMonth.objects.select_related("closed_by")}
    recent = [(period, closed.get(period)) for period in months_back(month_before(this_month()), 12)]
    log = ClosedMonth.history.select_related("history_user").order_by("-history_date")[:30]
    return render(request, "households/months.html", {"months": recent, "log": log})
