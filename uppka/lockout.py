"""The user name django-axes keys a lockout on (with the address from uppka.proxy)."""

from django.conf import settings

# The length of django-axes' AccessAttempt.username (and its other logs).
STORED_USERNAME_LENGTH = 255


def login_username(request, credentials=None) -> str | None:
    """The user name typed at login, read as django-axes reads it, cut to the length its
    tables hold.

    A scanner's longer name could not be stored: a server error on PostgreSQL instead of a
    failed login (django-axes issue #1381). User names here are 150 characters at most, so
    two long names that differ only past the cut share a lockout without harm to anyone.
    """
    source = credentials or getattr(request, "data", request.POST)
    username = source.get(settings.AXES_USERNAME_FORM_FIELD)
    return username[:STORED_USERNAME_LENGTH] if isinstance(username, str) else username
