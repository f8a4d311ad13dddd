from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from households.signals import personal_data_accessed

        personal_data_accessed.connect(_record_access, dispatch_uid="accounts.access_log")


def _record_access(sender, *, request, action, target, **kwargs):
    from accounts.models import AccessLog

    AccessLog.record(request, action, target)
