"""What households' views tell the rest of the project, without importing it.

The access log lives in ``accounts``, which reads households for its audit: for
dependencies to run one way (accounts → households → groups), households announces
who looked at or moved personal data and accounts records it (``accounts/apps.py``).
"""

from django.dispatch import Signal

# Sent with ``request`` (or, from a background job, ``user`` and ``ip``), ``action`` (one of the names below) and ``target`` (what, in words).
personal_data_accessed = Signal()

VIEW_HOUSEHOLD, IMPORT, DOWNLOAD_DATA = "view_household", "import", "download_data"
PRINT_REGISTER = "print_register"
