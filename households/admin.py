from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from groups.admin import NoDeleteMixin, activate, deactivate
from households.models import ClosedMonth, GroupProfile, Household, IncomeReading, Membership
from uppka.admin_dates import DateHierarchyMixin
from uppka.admin_inlines import LabelledTabularInline


class MembershipInline(LabelledTabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["group"]


@admin.register(Household)
class HouseholdAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_filter = ["is_active", "kb_method", "kelurahan__kecamatan"]
    search_fields = ["kk_number", "head_name", "head_nik"]
    list_select_related = ["kelurahan"]
    autocomplete_fields = ["kelurahan"]
    inlines = [MembershipInline]
    actions = [deactivate, activate]

    @admin.display(description=_("head's NIK"))
    def masked_nik(self, obj):
        return obj.masked_nik

    def get_list_display(self, request):
        # The whole NIK is personal data for DPPKB's eyes only (UU 27/2022).
        nik = "head_nik" if request.user.sees_whole_city else "masked_nik"
        return ["kk_number", "head_name", nik, "kelurahan", "family_size", "kb_method", "is_active"]


@admin.register(Membership)
class MembershipAdmin(DateHierarchyMixin, NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["household", "group", "joined_on", "left_on"]
    list_filter = ["group__group_type", "group__team__opd"]
    search_fields = ["household__kk_number", "household__head_name", "group__code"]
    list_select_related = ["household", "group"]
    raw_id_fields = ["household", "group"]
    date_hierarchy = "joined_on"


@admin.register(IncomeReading)
class IncomeReadingAdmin(DateHierarchyMixin, NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["household", "period", "amount", "recorded_by", "recorded_at"]
    search_fields = ["household__kk_number", "household__head_name"]
    list_select_related = ["household", "recorded_by"]
    raw_id_fields = ["household"]
    readonly_fields = ["recorded_by", "recorded_at"]
    date_hierarchy = "period"
    show_full_result_count = False  # COUNT(*) over millions of readings is slow on PostgreSQL

    def save_model(self, request, obj, form, change):
        obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ClosedMonth)
class ClosedMonthAdmin(SimpleHistoryAdmin):
    list_display = ["period", "closed_by", "closed_at"]
    readonly_fields = ["closed_by", "closed_at"]

    def save_model(self, request, obj, form, change):
        obj.closed_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(GroupProfile)
class GroupProfileAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["group", "year", "business_field", "chair", "recorded_by", "recorded_at"]
    list_filter = ["year", "business_field"]
    search_fields = ["group__code", "group__name"]
    raw_id_fields = ["group", "chair", "secretary", "treasurer"]
    readonly_fields = ["recorded_by", "recorded_at"]
