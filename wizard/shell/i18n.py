"""Two languages: English and Traditional Chinese, from Accept-Language or the header switch."""
from flask import Blueprint, g, request
from flask_babel import Babel, gettext
from markupsafe import Markup

from wizard.core.models import User
from wizard.shell.pages import public, redirect_to, safe_return

bp = Blueprint("i18n", __name__)


LANGUAGES = {"en": "English", "zh_Hant": "繁體中文"}


COOKIE = "language"


COOKIE_MAX_AGE = 365 * 24 * 3600


def _from_accept_language() -> str:
    """Map browser tags (zh-TW, zh-Hant-HK, en-GB, ...) onto the two catalogs we ship."""
    for tag, _quality in request.accept_languages:
        parts = tag.replace("_", "-").lower().split("-")
        if parts[0] == "en":
            return "en"
        # Simplified-Chinese readers are better served by English than by Hant guesses.
        if parts[0] == "zh" and not ({"hans", "cn", "sg"} & set(parts[1:])):
            return "zh_Hant"
    return "en"


def select_locale() -> str:
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    user = g.get("user")
    if user is not None and user.language in LANGUAGES:
        return user.language
    return _from_accept_language()


def joined(items) -> str:
    """Items as a list in a sentence of the reader's language: "a, b" in English, "a、b" in Chinese."""
    return gettext(", ").join(str(item) for item in items)


def as_typed(text: str) -> Markup:
    """Text in whatever language it was written (a message, a reply), marked so that neither a
    browser's translator nor a reader of the page's language takes it for the page's own words."""
    return Markup('<span translate="no">{}</span>').format(text)


def translated_with(translation: str, **values) -> Markup:
    """A translation, `_("... %(name)s ...")` called without values, filled with values that may be
    markup (as_typed); the others are escaped."""
    return Markup(translation) % values


def init_app(app):
    Babel(app, locale_selector=select_locale, default_translation_directories="translations")
    app.add_template_filter(joined)  # {{ names | joined }}
    app.add_template_global(as_typed)  # {{ _("Our reply: %(reply)s", reply=as_typed(reply)) }}

    @app.context_processor
    def languages():
        return {"languages": LANGUAGES, "current_language": select_locale()}


@bp.route("/language", methods=["POST"])
@public
def switch():
    """Remember the language in a cookie (works signed out) and on the admin's account."""
    language = request.form.get("language", "")
    target = safe_return(request.form.get("next"))
    response = redirect_to(target)
    if language in LANGUAGES:
        response.set_cookie(COOKIE, language, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax")
        user = g.get("user")
        if user is not None:
            User.update(language=language).where(User.id == user.id).execute()
    return response
