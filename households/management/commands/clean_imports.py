from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from households.imports import forget_old_files


class Command(BaseCommand):
    help = (
        "Remove uploaded workbooks older than a day from IMPORT_DIR, and temporary files older than an "
        "hour from its tmp folder (left by a worker that was stopped while writing a workbook). "
        "Run it daily from cron; uploads also do it as they come."
    )

    def handle(self, *args, **options):
        self.stdout.write(_("%(count)s old files removed.") % {"count": forget_old_files()})
