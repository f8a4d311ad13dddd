from django.core.management.base import BaseCommand

from jobs.retention import purge_expired


class Command(BaseCommand):
    help = "Delete background jobs that ended over a day ago, and their files."

    def handle(self, *args, **options):
        removed = purge_expired()
        self.stdout.write(f"{removed} job file(s) removed.")
