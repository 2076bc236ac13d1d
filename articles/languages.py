"""The languages patients read: English at the site's root, every other language under its own prefix (/es/).

The address alone decides the language, never a cookie or the browser's Accept-Language: a page is then the
same for everyone who asks for that address, so the page cache and shared caches keep one copy of it, and a
link or a search result always opens in the language it was made in. Staff pages (the admin, the review desk)
are in English.

A request under /es/ is resolved against `clinic_site.urls_es`, which holds only the public pages, so a
Spanish page cannot link to a staff page by mistake (reversing one raises). `url_in(language, ...)` reverses an
address in a given language from anywhere, which the language switcher, hreflang links and sitemaps need.
"""

from django.conf import settings
from django.urls import reverse
from django.utils import translation

DEFAULT = settings.LANGUAGE_CODE
NAMES = dict(settings.LANGUAGES)  # as staff read them: "Spanish"
# As a reader of each language looks for it in a language switcher: "Español".
NATIVE_NAMES = {code: translation.get_language_info(code)["name_local"].capitalize() for code in NAMES}
# Each language but the default, by its URL prefix.
PREFIXED = {code: f"/{code}/" for code in NAMES if code != DEFAULT}


def urlconf(language: str) -> str:
    """The URLconf of `language`'s pages: the site's own for the default, clinic_site.urls_<code> for the others."""
    return settings.ROOT_URLCONF if language == DEFAULT else f"clinic_site.urls_{language}"


def language_of_path(path: str) -> str:
    """Return the language an address is in: its prefix's, or the default's."""
    for code, prefix in PREFIXED.items():
        if path.startswith(prefix) or path == prefix.rstrip("/"):
            return code
    return DEFAULT


def url_in(language: str, viewname: str, **kwargs) -> str:
    """Return the address of a public page in `language` (as reverse(), whatever language is active now)."""
    with translation.override(language):
        return reverse(viewname, urlconf=urlconf(language), kwargs=kwargs)


class LanguageMiddleware:
    """Activate the language of the address, and resolve prefixed addresses against their language's URLconf.

    Unlike Django's LocaleMiddleware it never redirects by the browser's language nor varies on it, for the
    reasons in the module docstring; the page's <html lang> and Content-Language tell browsers and screen
    readers which language it is in.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = language_of_path(request.path_info)
        if language != DEFAULT:
            request.urlconf = urlconf(language)
        request.LANGUAGE_CODE = language
        translation.activate(language)
        try:
            response = self.get_response(request)
        finally:
            translation.activate(DEFAULT)
        response.headers.setdefault("Content-Language", language)
        return response
