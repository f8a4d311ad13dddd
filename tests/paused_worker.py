"""``manage.py db_worker`` whose imports stop in the middle of their writes (the incomes are
inserted, the transaction not yet committed) and say so in the file PAUSED_FLAG names: for
tests/test_worker.py to kill the worker there. Test code only."""

import os
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uppka.settings")
django.setup()

from django.core.management import execute_from_command_line  # noqa: E402

from households import importer  # noqa: E402

written = importer._insert_readings


def insert_then_wait(*args, **kwargs):
    result = written(*args, **kwargs)
    Path(os.environ["PAUSED_FLAG"]).write_text("written, not committed")
    time.sleep(600)
    return result


importer._insert_readings = insert_then_wait
execute_from_command_line(["manage.py", "db_worker", *sys.argv[1:]])
