from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from groups.models import (
    Group,
    GroupProblem,
    GroupType,
    Kecamatan,
    KecamatanTarget,
    Kelurahan,
    Opd,
    PovertyLine,
    Target,
    WorkingTeam,
)
from uppka.admin_inlines import LabelledTabularInline
from uppka.formats import format_number


class NoDeleteMixin:
    """History stays: records are deactivated, never deleted."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.action(description=_("Deactivate selected records"))
def deactivate(modeladmin, request, queryset):
    for obj in queryset:  # save() one by one so the history records each change
        obj.is_active = False
        obj.save(update_fields=["is_active"])


@admin.action(description=_("Activate selected records"))
def activate(modeladmin, request, queryset):
    for obj in queryset:
        obj.is_active = True
        obj.save(update_fields=["is_active"])


class KelurahanInline(LabelledTabularInline):
    model = Kelurahan
    extra = 0


@admin.register(Kecamatan)
class KecamatanAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    inlines = [KelurahanInline]


@admin.register(Kelurahan)
class KelurahanAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kecamatan"]
    list_filter = ["kecamatan"]
    search_fields = ["code", "name"]
    list_select_related = ["kecamatan"]


@admin.register(Opd)
class OpdAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["code", "name", "head", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name", "head"]
    actions = [deactivate, activate]


@admin.register(WorkingTeam)
class WorkingTeamAdmin(admin.ModelAdmin):
    list_display = ["name", "opd", "is_default"]
    list_filter = ["opd"]
    search_fields = ["name", "opd__code", "opd__name"]
    filter_horizontal = ["members"]
    list_select_related = ["opd"]


@admin.register(GroupType)
class GroupTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


class GroupProblemInline(LabelledTabularInline):
    model = GroupProblem
    extra = 0
    fields = ["kind", "description", "noted_on", "is_resolved", "resolved_on"]


@admin.register(Group)
class GroupAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["code", "name", "group_type", "team", "kelurahan", "is_active"]
    list_filter = ["is_active", "group_type", "team__opd", "kelurahan__kecamatan"]
    search_fields = ["code", "name", "business"]
    list_select_related = ["group_type", "team", "kelurahan"]
    autocomplete_fields = ["kelurahan"]
    filter_horizontal = ["cadres"]
    inlines = [GroupProblemInline]
    actions = [deactivate, activate]


@admin.register(GroupProblem)
class GroupProblemAdmin(SimpleHistoryAdmin):
    list_display = ["group", "kind", "noted_on", "is_resolved"]
    list_filter = ["kind", "is_resolved"]
    search_fields = ["group__code", "group__name", "description"]
    list_select_related = ["group"]
    raw_id_fields = ["group"]


class KecamatanTargetFormSet(BaseInlineFormSet):
    def clean(self):
        """A target split over the kecamatan adds up to the target (or is not split)."""
        super().clean()
        parts = [
            form.cleaned_data["households"]
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("households") is not None
        ]
        if parts and sum(parts) != self.instance.households:
            raise ValidationError(
                _("The kecamatan targets add up to %(sum)s, not to the target of %(total)s.")
                % {"sum": format_number(sum(parts)), "total": format_number(self.instance.households)}
            )


class KecamatanTargetInline(LabelledTabularInline):
    model = KecamatanTarget
    formset = KecamatanTargetFormSet
    extra = 0


@admin.register(Target)
class TargetAdmin(SimpleHistoryAdmin):
    list_display = ["year", "households"]
    inlines = [KecamatanTargetInline]


@admin.register(PovertyLine)
class PovertyLineAdmin(SimpleHistoryAdmin):
    list_display = ["valid_from", "amount", "source"]
