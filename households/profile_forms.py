"""The form of a group's data by year (SPEC section 9), phone-friendly: Rupiah typed as
people write it, channels as check boxes, officers chosen from the members."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.forms import DateInput
from households.models import CAPITAL_SOURCES, CHANNELS, OFFICERS, BusinessField, GroupProfile
from households.profiles import officer_candidates, parse_rupiah
from uppka.formats import format_number
from uppka.months import not_in_future


class RupiahField(forms.CharField):
    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "Rp"})

    def to_python(self, value):
        value = super().to_python(value)
        return None if value in self.empty_values else parse_rupiah(value)


class GroupProfileForm(forms.Form):
    sk_number = forms.CharField(label=gettext_lazy("Decree (SK) number"), max_length=100, required=False)
    sk_date = forms.DateField(label=gettext_lazy("Decree (SK) date"), required=False, widget=DateInput())
    chair = forms.ModelChoiceField(None, label=gettext_lazy("Chair"), required=False)
    secretary = forms.ModelChoiceField(None, label=gettext_lazy("Secretary"), required=False)
    treasurer = forms.ModelChoiceField(None, label=gettext_lazy("Treasurer"), required=False)
    # Radio buttons: the longer fields ("Pertanian dan peternakan") do not fit a select on a
    # phone at large text, and a cadre sees every choice at once.
    business_field = forms.ChoiceField(label=gettext_lazy("Business field"), choices=BusinessField.choices,
                                       widget=forms.RadioSelect)
    products = forms.CharField(label=gettext_lazy("Products"), max_length=300, required=False)
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Marketing channels"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(code, label) for code, _name, label in CHANNELS],
    )
    turnover = RupiahField(label=gettext_lazy("Average monthly turnover (optional)"), required=False)

    def __init__(self, *args, group, year, **kwargs):
        super().__init__(*args, **kwargs)
        self.year = year
        candidates = officer_candidates(group, year)
        for officer in OFFICERS:
            self.fields[officer].queryset = candidates
            self.fields[officer].empty_label = "–"
        # Capital by source, after the products and before the channels.
        fields = dict(self.fields)
        ordered = {}
        for name, field in fields.items():
            if name == "channels":
                for _code, field_name, label in CAPITAL_SOURCES:
                    ordered[field_name] = RupiahField(
                        label=_("Capital: %(source)s") % {"source": label}, required=False
                    )
            ordered[name] = field
        self.fields = ordered

    @classmethod
    def for_profile(cls, profile: GroupProfile | None, *, initial: dict, **kwargs):
        """A form holding a saved profile's answers, or ``initial`` (last year's)."""
        if profile is not None:
            initial = {name: getattr(profile, name) for name in (
                "sk_number", "sk_date", "business_field", "products", "turnover",
                *(field for _c, field, _l in CAPITAL_SOURCES))}
            initial["channels"] = profile.channels
            initial.update({o: getattr(profile, f"{o}_id") for o in OFFICERS})
        return cls(initial=_shown(initial), **kwargs)

    def officer_table(self) -> dict:
        """The officers as one table for a phone: a row per member family, a radio button
        per office (three select lists would cut long names off on a narrow screen)."""
        chosen = {o: str(self[o].value() or "") for o in OFFICERS}
        offices = [(o, self.fields[o].label) for o in OFFICERS]
        rows = [
            (household, f"…{household.kk_number[-4:]}", [(o, label, chosen[o] == str(household.pk)) for o, label in offices])
            for household in self.fields["chair"].queryset
        ]
        return {
            "offices": offices, "rows": rows, "none": [(o, label, not chosen[o]) for o, label in offices],
            "errors": [e for o in OFFICERS for e in self[o].errors],
        }

    def clean_sk_date(self):
        day = self.cleaned_data["sk_date"]
        return not_in_future(day) if day else day

    def clean(self):
        data = super().clean()
        chosen = {}
        for officer in OFFICERS:
            household = data.get(officer)
            if household is None:
                continue
            if household.pk in chosen:
                self.add_error(officer, _("This family already holds another office: %(office)s.")
                               % {"office": self.fields[chosen[household.pk]].label})
            chosen.setdefault(household.pk, officer)
        return data

    def values(self) -> dict:
        """The model fields to save (empty capital is 0; an empty turnover stays empty)."""
        data = self.cleaned_data
        values = {name: data[name] for name in ("sk_number", "sk_date", "business_field", "products", "turnover", *OFFICERS)}
        for _code, field, _label in CAPITAL_SOURCES:
            values[field] = data[field] or 0
        return values


def _shown(initial: dict) -> dict:
    """Rupiah fields shown as people write them (``1.250.000``)."""
    money = {"turnover", *(field for _c, field, _l in CAPITAL_SOURCES)}
    return {k: (format_number(v) if k in money and v is not None else v) for k, v in initial.items()}
