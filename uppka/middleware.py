from django.conf import settings
from django.db import OperationalError
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _


class LanguageMiddleware:
    """Bahasa Indonesia for everyone, whatever the browser asks for, unless the user picked
    another language (the cookie set by Django's ``set_language`` view).

    Django's LocaleMiddleware follows Accept-Language, and many phones in Palopo are set to
    English; the product's language is Indonesian.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if code not in dict(settings.LANGUAGES):
            code = settings.LANGUAGE_CODE
        request.LANGUAGE_CODE = code
        # override() restores the thread's language afterwards: nothing leaks into the
        # next request or into code running later in the same thread.
        with translation.override(code):
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", code)
        return response


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # Bootstrap draws its icons as data: SVGs
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    """Only the site's own scripts, styles and images: no inline scripts, no CDN. Pages
    pass data to scripts with ``json_script`` and ``data-`` attributes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


class NoStoreForSignedInMiddleware:
    """``Cache-Control: no-store`` on every response to a signed-in user: pages and
    downloads hold personal data, and on a phone shared by a group they must not stay in the
    browser's cache after logging out. Static files (WhiteNoise, earlier in the chain) keep
    their long cache lifetime."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Signed in when the request arrives or when the response leaves (logging in and
        # out change request.user on the way).
        signed_in = request.user.is_authenticated
        response = self.get_response(request)
        if signed_in or request.user.is_authenticated:
            add_never_cache_headers(response)
        return response


class RefuseNullCharacterMiddleware:
    """A 400 for an address with a NUL character in its path or query: no page takes one,
    and PostgreSQL refuses it in a query (a server error) wherever a view looks it up, such
    as a group code in the path."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = (text for key, values in request.GET.lists() for text in (key, *values))
        if "\x00" in request.path or any("\x00" in text for text in query):
            message = _("The address contains a character that is not allowed.")
            return render(request, "400.html", {"message": message}, status=400)
        return self.get_response(request)


class BusyDatabaseMiddleware:
    """SQLite has one writer: while a big import saves (a minute or two), a page that writes
    waits out the busy timeout and then fails. It gets a page that says so, 503 with
    Retry-After, instead of a server error. PostgreSQL never answers "database is locked"."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError) and "database is locked" in str(exception):
            response = render(request, "busy.html", status=503)
            response["Retry-After"] = "30"
            return response
        return None
