"""Two languages: English and Traditional Chinese, from Accept-Language or the header switch."""
from flask import Blueprint, g, request
from flask_babel import Babel

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


def init_app(app):
    Babel(app, locale_selector=select_locale, default_translation_directories="translations")

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
