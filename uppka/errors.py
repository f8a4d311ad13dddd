"""Error reporting beyond the log: optional Sentry, and a one-line log of refused hosts."""

import logging

from django.views.debug import SafeExceptionReporterFilter


class WithoutTraceback(logging.Filter):
    """Log the record without its traceback: a request for an unknown Host (a scanner, a
    probe by IP address) is worth one line, not thirty."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


class NoPersonalDataReporterFilter(SafeExceptionReporterFilter):
    """Error reports (the e-mails to ADMINS) without what users typed or what the code held:
    forms and local variables carry NIKs and incomes. The traceback, the URL and the
    request's headers (cookies and secrets already hidden by Django) are enough to find a bug."""

    def get_post_parameters(self, request):
        if request is None:
            return {}
        return {name: self.cleansed_substitute for name in request.POST}

    def get_traceback_frame_variables(self, request, tb_frame):
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]


def start_sentry(dsn: str, *, environment: str) -> bool:
    """Send errors to Sentry when sentry-sdk is installed (it is optional: not in
    requirements.txt). Requests' bodies, cookies, users and local variables stay out
    (``send_default_pii`` off): pages and uploads hold NIKs. Returns whether Sentry was started."""
    try:
        import sentry_sdk
    except ImportError:
        logging.getLogger("uppka").warning("SENTRY_DSN is set but sentry-sdk is not installed: pip install sentry-sdk")
        return False
    sentry_sdk.init(dsn=dsn, environment=environment, send_default_pii=False, max_request_body_size="never",
                    include_local_variables=False, traces_sample_rate=0.0)
    return True
