"""The admin's date drill-down (``date_hierarchy``) without a server error on odd dates.

Django turns an impossible filter into IncorrectLookupParameters, which the change list
answers with its "?e=1" page; on dates it misses a few cases, which this change list adds.
"""

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList


class DateCheckedChangeList(ChangeList):
    def get_filters(self, request):
        # Django 5.2 lets ?period__year=9999 (year 10000 is out of range) and a year too big
        # for a C long escape its try (Django ticket #37357, fixed upstream).
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as e:
            raise IncorrectLookupParameters(e) from e

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        # A date-time the database cannot hold in UTC (?at__year=1 in WITA, or
        # ?at__gte=9999-12-31T23:59-12:00) fails only when the query is compiled, in the
        # middle of rendering: compile it here, where a failure is still a refusal.
        try:
            queryset.query.get_compiler(queryset.db, elide_empty=False).as_sql()
        except (ValueError, OverflowError) as e:
            raise IncorrectLookupParameters(e) from e
        return queryset


class DateHierarchyMixin:
    """For ModelAdmins with ``date_hierarchy`` (whose field's lookups the admin allows)."""

    def get_changelist(self, request, **kwargs):
        return DateCheckedChangeList
