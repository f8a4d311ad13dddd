from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import AccessLog, User
from groups.models import Group
from uppka.admin_dates import DateHierarchyMixin
from uppka.admin_inlines import LabelledTabularInline


class AssignedGroupInline(LabelledTabularInline):
    model = Group.cadres.through
    extra = 0
    raw_id_fields = ["group"]
    verbose_name = _("assigned group")
    verbose_name_plural = _("assigned groups (cadres)")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "opd", "is_active", "is_staff"]
    list_filter = ["role", "opd", "is_active", "is_staff"]
    list_select_related = ["opd"]
    fieldsets = BaseUserAdmin.fieldsets + ((_("Role"), {"fields": ["role", "opd"]}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + ((_("Role"), {"fields": ["role", "opd"]}),)
    inlines = [AssignedGroupInline]


@admin.register(AccessLog)
class AccessLogAdmin(DateHierarchyMixin, admin.ModelAdmin):
    """Read only: the log is evidence, nobody edits it."""

    list_display = ["at", "user", "action", "target", "ip_address"]
    list_filter = ["action"]
    search_fields = ["user__username", "target"]
    list_select_related = ["user"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
