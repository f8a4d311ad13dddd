import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils.translation import gettext as _

from households.importer import apply_plan, describe, plan_import
from households.workbook import WorkbookError, read_workbook
from uppka.formats import format_number


class Command(BaseCommand):
    help = (
        "Import a workbook (.xlsx, .ods or .xls) with the sheets Kelompok, Keluarga and Pendapatan (and optionally Pertemuan, "
        "Kehadiran and Status KB). All or nothing: "
        "any invalid row means nothing is written (exit status 1, one line per problem on stderr)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")

    def handle(self, *args, **options):
        try:
            sheets = read_workbook(options["file"])
        except WorkbookError as e:
            raise CommandError(f"{options['file']}: {e}") from e
        plan = plan_import(sheets, user=None)
        del sheets  # the plan holds what it needs: let the rows go before writing
        for line in plan.summaries:  # a cause shared by a whole column: it names its sheet and column
            self.stderr.write(line.message)
        for problem in plan.problems:
            self.stderr.write(problem.line())
        if plan.problem_count > len(plan.problems):
            self.stderr.write(_("Showing the first %(shown)s of %(total)s problems.")
                              % {"shown": format_number(len(plan.problems)), "total": format_number(plan.problem_count)})
        if plan.error_count:
            self.stderr.write(_("%(count)s errors: nothing was saved.") % {"count": plan.error_count})
            sys.exit(1)
        if not options["dry_run"]:
            try:
                apply_plan(plan, user=None)
            except DatabaseError as e:
                raise CommandError(_("Nothing was saved: %(error)s") % {"error": e}) from e
        template = _("Dry run, nothing written: %(summary)s.") if options["dry_run"] else _("Saved: %(summary)s.")
        self.stdout.write(template % {"summary": describe(plan.counts())})
