"""gunicorn settings for UPPKA Monitor (deploy/systemd/uppka-web.service: gunicorn -c this file).

Each value can be changed through the environment (/etc/uppka/env) without editing this file.
"""

import os

from gunicorn.glogging import Logger

# Only nginx on the same server talks to gunicorn.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
# A page, a download or a checked upload takes seconds; long work runs in uppka-worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
# A worker that read a big workbook keeps its memory (Python does not give it back):
# replace each one after some requests, not all at once (the jitter).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "200"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "50"))

# Logs to stdout/stderr, which journald keeps (journalctl -u uppka-web). The access log
# names the client nginx saw (X-Forwarded-For, which nginx overwrites), not nginx itself.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(t)s %({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


class QuietHealthLogger(Logger):
    """The access log without /healthz: a probe every few seconds would bury the requests."""

    def access(self, resp, req, environ, request_time):
        if environ.get("PATH_INFO") != "/healthz":
            super().access(resp, req, environ, request_time)


logger_class = QuietHealthLogger
