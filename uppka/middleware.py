from django.conf import settings
from django.utils import translation


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
