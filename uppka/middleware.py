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
        translation.activate(code)
        request.LANGUAGE_CODE = code
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", code)
        return response
