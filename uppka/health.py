"""``/healthz`` for load balancers, systemd and monitoring: is the database reachable?"""

import logging

from django.db import connection
from django.http import HttpResponse

HEALTH_PATH = "/healthz"

logger = logging.getLogger(__name__)


def database_is_reachable() -> bool:
    """One trivial query on the default database; False on any database error."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - any failure means "not healthy", and is logged
        logger.exception("Health check: the database is not reachable")
        return False


class HealthCheckMiddleware:
    """Answer ``/healthz`` before anything else runs: no Host check (a probe by the server's
    address sends ``Host: 10.0.0.5:8000``, which ALLOWED_HOSTS rightly refuses elsewhere),
    no HTTPS redirect (probes speak plain HTTP to gunicorn), no session, no login, no
    personal data: "ok" (200) or "database unavailable" (503). First in MIDDLEWARE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info != HEALTH_PATH or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        healthy = database_is_reachable()
        response = HttpResponse(
            "ok\n" if healthy else "database unavailable\n",
            status=200 if healthy else 503,
            content_type="text/plain; charset=utf-8",
        )
        response["Cache-Control"] = "no-store"
        return response
