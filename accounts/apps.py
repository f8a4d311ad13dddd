from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from households.signals import personal_data_accessed

        personal_data_accessed.connect(_record_access, dispatch_uid="accounts.access_log")


def _record_access(sender, *, action, target, request=None, user=None, ip=None, **kwargs):
    """From a request, or from a background job (its owner, and the address it was asked from)."""
    from accounts.models import AccessLog

    if request is not None:
        AccessLog.record(request, action, target)
    else:
        AccessLog.objects.create(user=user, action=action, target=target[:300], ip_address=ip)
