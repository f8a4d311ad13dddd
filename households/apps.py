from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HouseholdsConfig(AppConfig):
    name = "households"
    verbose_name = _("Households and income")

    def ready(self):
        from households import figures, register

        figures.connect_signals()
        register.connect_signals()
