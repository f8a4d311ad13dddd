import re
from dataclasses import dataclass

from crispy_forms.helper import FormHelper
from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.identity import nik_warnings, normalize_number, validate_kk
from households.models import Household, KbMethod, KbReason, Meeting
from households.parsing import parse_amount
from uppka.formats import format_rupiah
from uppka.months import end_of_month, not_in_future


def error_text(form) -> str:
    """All of a form's error messages in one line, for a flash message after a redirect; each
    field's message after the field's label ("Jenis: Bidang ini tidak boleh kosong.")."""
    return " ".join(
        message if name == NON_FIELD_ERRORS else f"{form.fields[name].label}: {message}"
        for name, errors in form.errors.items() for message in errors
    )


ROW_FIELD = re.compile(r"^(amount|was|confirm|choose|conflict|kb|kb_was|reason)_(\d+)$")
PRESENT_FIELD = re.compile(r"^present_(\d+)_(\d+)$")  # present_<meeting>_<household>
MINE, THEIRS = "mine", "theirs"


class EntrySheetForm(forms.Form):
    """One amount field per active member. Only rows of this sheet are accepted: any other
    household id, or a missing row, means the form was tampered with or is stale.

    A row someone else saved after the sheet was opened comes back as a conflict: the
    cadre's amount stays in the field, the saved one is shown beside it, and the next save
    keeps whichever the cadre chooses (``choose_<id>``)."""

    def __init__(self, *args, rows, conflicts=(), meetings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = {row.household.id: row for row in rows}
        self.meetings = list(meetings)
        self.conflicts = set(conflicts) | {
            hid for hid in self.rows if self.data.get(f"conflict_{hid}")
        }
        for hid, row in self.rows.items():
            shown = "" if row.amount is None else str(row.amount)
            self.fields[f"amount_{hid}"] = forms.CharField(
                required=False,
                initial=shown and format_rupiah(row.amount).removeprefix("Rp "),
                label=row.household.head_name,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            )
            self.fields[f"was_{hid}"] = forms.CharField(required=False, initial=shown, widget=forms.HiddenInput)
            self.fields[f"confirm_{hid}"] = forms.BooleanField(
                required=False, label=gettext_lazy("Yes, this amount is right")
            )
            self.fields[f"kb_{hid}"] = forms.ChoiceField(
                required=False, initial=row.kb_method, label=gettext_lazy("KB method"),
                choices=[("", "–"), *KbMethod.choices] if not row.kb_method else KbMethod.choices,
            )
            self.fields[f"reason_{hid}"] = forms.ChoiceField(
                required=False, initial=row.kb_reason, label=gettext_lazy("Reason"),
                choices=[("", "–"), *KbReason.choices],
            )
            self.fields[f"kb_was_{hid}"] = forms.CharField(
                required=False, initial=f"{row.kb_method}:{row.kb_reason}", widget=forms.HiddenInput)
            membership = row.membership
            for meeting in self.meetings:
                if not (membership.joined_on <= meeting.held_on
                        and (membership.left_on is None or membership.left_on > meeting.held_on)):
                    continue  # only members of the group on the meeting's day can be present
                self.fields[f"present_{meeting.pk}_{hid}"] = forms.BooleanField(
                    required=False, initial=meeting.pk in row.present,
                    label=date_format(meeting.held_on, "j M"),
                )
            if hid in self.conflicts:
                self.fields[f"choose_{hid}"] = forms.ChoiceField(
                    required=False,
                    widget=forms.RadioSelect,
                    choices=[
                        (MINE, gettext_lazy("Keep my amount (above)")),
                        (THEIRS, _("Keep the saved amount: %(amount)s") % {
                            "amount": format_rupiah(row.amount) if row.amount is not None else _("none")}),
                    ],
                )
                self.fields[f"conflict_{hid}"] = forms.CharField(required=False, initial="1", widget=forms.HiddenInput)

    def clean(self):
        data = self.data
        foreign = {int(m[2]) for key in data if (m := ROW_FIELD.match(key) or PRESENT_FIELD.match(key))} - self.rows.keys()
        meeting_ids = {m.pk for m in self.meetings}
        if any(int(m[1]) not in meeting_ids for key in data if (m := PRESENT_FIELD.match(key))):
            raise ValidationError(_("The form names a meeting that is not in this month. Nothing was saved."))
        missing = [hid for hid in self.rows if f"amount_{hid}" not in data or f"was_{hid}" not in data]
        if foreign:
            raise ValidationError(_("The form contains households that are not on this sheet. Nothing was saved."))
        if missing:
            raise ValidationError(_("The form is incomplete; reload the page and try again. Nothing was saved."))
        self.amounts, self.expected = {}, {}
        self.kb_changes: dict[int, tuple[str, str]] = {}
        # Only the meetings the page showed: ticks of a meeting added after the sheet was
        # opened are not the cadre's to clear.
        shown = {int(pk) for pk in str(data.get("meetings_shown", "")).split(",") if pk.isdigit()}
        # Only what the cadre changed on the page is written: a tick someone else saved since
        # the page was opened stays, unless this cadre changed that very tick.
        ticks_was = data.get("ticks_was")
        self.present = {}
        for m in self.meetings:
            if m.pk not in shown:
                continue
            ticked = {hid for hid in self.rows if self.cleaned_data.get(f"present_{m.pk}_{hid}")}
            if ticks_was is None:
                was = {hid for hid, row in self.rows.items() if m.pk in row.present}
            else:
                was = {int(p.split("-")[1]) for p in ticks_was.split(",")
                       if re.fullmatch(r"\d+-\d+", p) and int(p.split("-")[0]) == m.pk}
            candidates = {hid for hid in self.rows if f"present_{m.pk}_{hid}" in self.fields}
            self.present[m.pk] = (ticked - was, (was & candidates) - ticked)
        for hid, row in self.rows.items():
            self._clean_kb(hid, row)
        for hid, row in self.rows.items():
            field = f"amount_{hid}"
            text = (self.cleaned_data.get(field) or "").strip()
            was = self.cleaned_data.get(f"was_{hid}") or ""
            if hid in self.conflicts:
                choice = self.cleaned_data.get(f"choose_{hid}")
                if choice == THEIRS:
                    continue  # the stored amount stays; nothing to write
                if choice != MINE:
                    self.add_error(field, _("Someone else saved another amount: choose which one to keep."))
                    continue
            if not text:
                if row.amount is not None:
                    self.add_error(field, _("A recorded income cannot be emptied; enter the right amount."))
                continue
            try:
                amount = parse_amount(text)
            except ValidationError as e:
                self.add_error(field, e)
                continue
            if row.is_outlier(amount) and not self.cleaned_data.get(f"confirm_{hid}"):
                self.add_error(
                    field,
                    _("This is far from the household's usual income (%(usual)s). Check it, then tick the box to save.")
                    % {"usual": format_rupiah(row.usual)},
                )
                self.needs_confirmation = getattr(self, "needs_confirmation", set()) | {hid}
                continue
            self.amounts[hid] = amount
            self.expected[hid] = int(was) if was.isdigit() else None
        return self.cleaned_data

    def _clean_kb(self, hid, row) -> None:
        """A method changed for the month (or a new reason for no method) becomes the
        month's status; no method needs a reason."""
        method = self.cleaned_data.get(f"kb_{hid}") or row.kb_method
        reason = self.cleaned_data.get(f"reason_{hid}") if f"reason_{hid}" in self.data else row.kb_reason
        if not method:
            return
        if method != KbMethod.TIDAK:
            reason = ""
        shown = self.data.get(f"kb_was_{hid}")
        if shown is not None:
            shown_method, _sep, shown_reason = str(shown).partition(":")
            if (method, reason) == (shown_method, shown_reason if shown_method == KbMethod.TIDAK else ""):
                return  # untouched on the page: what is stored now stays, whoever saved it
        if method == KbMethod.TIDAK and not reason:
            self.add_error(f"reason_{hid}", _("Choose why the family uses no method."))
            return
        if (method, reason) != (row.kb_method, row.kb_reason if row.kb_method == KbMethod.TIDAK else ""):
            self.kb_changes[hid] = (method, reason)

    def rows_to_check(self) -> int:
        """How many rows carry a problem (shown as a count above the sheet)."""
        return sum(1 for hid in self.rows if any(self.has_error(f"{name}_{hid}") for name in ("amount", "kb", "reason")))

    def problems(self):
        """(what, field id, message) of each refused field, in sheet order, for the summary
        above the sheet: "Budi Santoso" for an amount, "Budi Santoso · KB method" otherwise."""
        for hid, row in self.rows.items():
            for name in ("amount", "kb", "reason"):
                field = self[f"{name}_{hid}"]
                what = row.household.head_name if name == "amount" else f"{row.household.head_name} · {field.label}"
                for message in field.errors:
                    yield what, field.id_for_label, message

    def has_changes(self) -> bool:
        return bool(self.amounts or self.kb_changes or any(added or removed for added, removed in self.present.values()))

    def ticks_was(self) -> str:
        """The ticks the page shows when opened ("meeting-household", comma-separated)."""
        return ",".join(f"{m.pk}-{hid}" for hid, row in self.rows.items() for m in self.meetings if m.pk in row.present)

    def row_fields(self):
        """Per row, in sheet order: the row, its amount field, the amount it had when the page
        was opened, the confirmation checkbox (or None), the conflict choice (or None) and
        whether this is the first row with a problem (it takes the focus)."""
        flagged = getattr(self, "needs_confirmation", set())
        first = next((hid for hid in self.rows if self.has_error(f"amount_{hid}")), None)
        for hid, row in self.rows.items():
            confirm = self[f"confirm_{hid}"] if hid in flagged or self.data.get(f"confirm_{hid}") else None
            choice = (self[f"choose_{hid}"], self[f"conflict_{hid}"]) if hid in self.conflicts else None
            register = SheetRegister(
                self[f"kb_{hid}"], self[f"reason_{hid}"],
                [self[f"present_{m.pk}_{hid}"] for m in self.meetings if f"present_{m.pk}_{hid}" in self.fields],
                self[f"kb_was_{hid}"])
            yield row, self[f"amount_{hid}"], self[f"was_{hid}"], confirm, choice, hid == first, register


@dataclass(frozen=True)
class SheetRegister:
    """A row's register fields: the KB method and reason, and a tick per meeting."""

    kb: forms.BoundField
    reason: forms.BoundField
    present: list
    kb_was: forms.BoundField


class AmountField(forms.CharField):
    """A Rupiah amount as people type it (``1.250.000``, ``Rp 1.250.000``, ``1,25 jt``)."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

    def to_python(self, value):
        value = super().to_python(value)
        return None if value in self.empty_values else parse_amount(value)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class KkSearchForm(forms.Form):
    kk_number = forms.CharField(
        label=gettext_lazy("KK number (16 digits)"), max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_kk_number(self):
        kk = normalize_number(self.cleaned_data["kk_number"])
        validate_kk(kk)
        return kk


class JoinForm(forms.Form):
    """Joining a group: the date and the income in the month before (the baseline)."""

    joined_on = forms.DateField(label=gettext_lazy("Date joined"), widget=DateInput())
    baseline_amount = AmountField(
        label=gettext_lazy("Income in the month before joining (Rp)"),
        required=False,
        help_text=gettext_lazy("For example 1.250.000 or 1,25 jt."),
    )

    def __init__(self, *args, baseline_required=True, earliest=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.baseline_required = baseline_required
        self.fields["baseline_amount"].required = baseline_required
        if earliest:  # a known family: the service refuses an earlier date, the picker says so first
            self.fields["joined_on"].widget.attrs["min"] = earliest.isoformat()
            self.fields["joined_on"].help_text = _("From %(day)s at the earliest.") % {
                "day": date_format(earliest, "j F Y")}
        if not self.is_bound:
            self.initial.setdefault("joined_on", timezone.localdate())
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_joined_on(self):
        return not_in_future(self.cleaned_data["joined_on"])


class HouseholdForm(forms.ModelForm):
    # Plain text fields: people type spaces or dots inside long numbers; the model's own
    # validators check the normalised value.
    kk_number = forms.CharField(label=gettext_lazy("KK number (16 digits)"), max_length=40)
    head_nik = forms.CharField(label=gettext_lazy("Head's NIK (16 digits)"), max_length=40)
    # Not a household field: the reason of the first KB status (SPEC section 8).
    kb_reason = forms.ChoiceField(
        label=gettext_lazy("Why no KB method"), required=False, choices=[("", "–"), *KbReason.choices],
        help_text=gettext_lazy("Only when the KB method is TIDAK."),
    )

    class Meta:
        model = Household
        fields = ["kk_number", "head_nik", "head_name", "kelurahan", "address", "family_size", "kb_method", "kb_reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The KK number was chosen at the search step; changing it here would register
        # a different family than the one searched for.
        self.fields["kk_number"].disabled = True
        self.fields["head_nik"].widget.attrs.update(inputmode="numeric")
        self.fields["family_size"].widget.attrs.update(min=1)
        self.fields["kelurahan"].queryset = self.fields["kelurahan"].queryset.select_related("kecamatan").order_by("name")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.warnings = []

    def clean_kk_number(self):
        return normalize_number(self.cleaned_data["kk_number"])

    def validate_unique(self):
        # "A household with this KK number already exists" would tell a cadre that a family
        # of another group exists. The registration service decides (and checks uniqueness
        # again when it creates the household).
        pass

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kb_method") == KbMethod.TIDAK:
            if not cleaned.get("kb_reason"):
                self.add_error("kb_reason", _("Choose why the family uses no method."))
        else:
            cleaned["kb_reason"] = ""
        return cleaned

    def household_details(self) -> dict:
        """The new household's fields (the first status's reason is not one of them)."""
        return {name: value for name, value in self.cleaned_data.items() if name != "kb_reason"}

    def clean_head_nik(self):
        nik = normalize_number(self.cleaned_data["head_nik"])
        # Structure errors come from the model's validator; regency remarks only warn.
        if len(nik) == 16 and nik.isdigit():
            self.warnings = nik_warnings(nik)
        return nik


class MeetingForm(forms.ModelForm):
    """A group meeting in the entry sheet's month."""

    class Meta:
        model = Meeting
        fields = ["held_on", "mode", "topic"]
        widgets = {"held_on": DateInput()}

    def __init__(self, *args, period, **kwargs):
        super().__init__(*args, **kwargs)
        self.period = period
        last = end_of_month(period)
        self.fields["held_on"].widget.attrs.update({"min": period.isoformat(), "max": last.isoformat(), "class": "form-control"})
        self.fields["topic"].widget.attrs.update(placeholder=_("e.g. Family planning counselling"))

    def clean_held_on(self):
        day = not_in_future(self.cleaned_data["held_on"])
        if not self.period <= day <= end_of_month(self.period):
            raise ValidationError(_("The meeting must be in %(month)s.") % {"month": date_format(self.period, "F Y")})
        return day


class LeaveForm(forms.Form):
    left_on = forms.DateField(label=gettext_lazy("Date left"), widget=DateInput())

    def clean_left_on(self):
        return not_in_future(self.cleaned_data["left_on"])


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Workbook (.xlsx, .ods or .xls)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.ods,.xls"}))
    dry_run = forms.BooleanField(
        label=gettext_lazy("Dry run: check and show what would change, write nothing"), required=False, initial=True
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size == 0:
            raise ValidationError(_("The file is empty."))
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise ValidationError(
                _("The file is larger than %(limit)s MB. Split it into several workbooks.")
                % {"limit": settings.IMPORT_MAX_BYTES // (1024 * 1024)}
            )
        if upload.name.lower().endswith((".csv", ".txt")):
            raise ValidationError(_(
                "Upload a workbook (.xlsx, .ods or .xls), not a CSV file. Open the CSV in a spreadsheet program "
                "(Excel, LibreOffice) with the No KK and NIK columns set to Text in the import dialog, so that "
                "no digit is lost, and save it as .xlsx; or paste the data into the blank template."))
        if not upload.name.lower().endswith((".xlsx", ".ods", ".xls")):
            raise ValidationError(_("Upload a workbook (.xlsx, .ods or .xls) saved by a spreadsheet program (Excel, "
                                    "LibreOffice)."))
        return upload
