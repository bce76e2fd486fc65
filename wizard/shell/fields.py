"""Field filters and validators the forms share: trimming, newlines, SIDs, tokens, names without
invisible characters. Phone numbers: wizard.shell.phones."""
import re
import unicodedata

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import ValidationError

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


MIN_PASSWORD = 12


CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


# What a name shown to other admins may not hold, by Unicode category: control characters (Cc),
# invisible format characters (Cf: the bidi controls U+202A-U+202E and U+2066-U+2069 that make text
# show differently from what it is, zero-width spaces and joiners, soft hyphens), line and
# paragraph separators, surrogates and private-use characters.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co"})


def invisible_problem(text: str, what) -> str | None:
    """Why `text` (what: e.g. "A sandbox name") can't be a name, or None: the first character in
    it that can't be seen, named."""
    for character in text or "":
        category = unicodedata.category(character)
        if category not in INVISIBLE_CATEGORIES:
            continue
        if category == "Cc":
            return gettext("%(what)s cannot contain control characters.", what=what)
        code = f"U+{ord(character):04X}"
        name = unicodedata.name(character, "")
        return gettext("%(what)s cannot contain the invisible character %(character)s, which can make text show "
                       "differently from what it is. Type it again rather than pasting it.", what=what,
                       character=f"{code} ({name})" if name else code)
    return None


def visible_name(what):
    """A validator: the field's text has no character invisible_problem refuses."""

    def check(form, field):
        problem = invisible_problem(field.data if isinstance(field.data, str) else "", what)
        if problem:
            raise ValidationError(problem)

    return check


def strip(value):
    return value.strip() if isinstance(value, str) else value


def one_kind_of_newline(value):
    # Browsers send a textarea's line breaks as CRLF; phones get, and providers count, LF.
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")


MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")


AUTH_TOKEN = re.compile(r"^[0-9a-fA-F]{32}$")


E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")  # the stored form; what admins type: wizard.shell.phones


def sid_validator(prefix: str, what: str, pattern: re.Pattern):
    """Explain exactly what is wrong with a SID: prefix, length or characters."""

    def check(form, field):
        value = field.data or ""
        if pattern.match(value):
            return
        if not value.startswith(prefix):
            raise ValidationError(_l("%(what)s starts with %(prefix)s.", what=what, prefix=prefix))
        if len(value) != 34:
            raise ValidationError(
                _l("%(what)s is 34 characters long: %(prefix)s and 32 hex digits (this one has %(count)s).",
                   what=what, prefix=prefix, count=len(value))
            )
        raise ValidationError(
            _l("%(what)s has only the hex digits 0-9 and a-f after %(prefix)s.", what=what, prefix=prefix)
        )

    return check


def auth_token_validator(form, field):
    value = field.data or ""
    if value and not AUTH_TOKEN.match(value):
        raise ValidationError(_l("An Auth Token is 32 hex digits (0-9, a-f); this one has %(count)s characters.",
                                 count=len(value)))


def no_spaces(value):
    return re.sub(r"\s+", "", value) if isinstance(value, str) else value


def lowercase(value):
    return value.lower() if isinstance(value, str) else value



class SecretTextAreaField(TextAreaField):
    """A textarea for a multi-line secret (a PEM private key): like a PasswordField, its value is
    never rendered back into the page."""

    def _value(self):
        return ""


def with_help(form_class, **descriptions):
    """The form class, with one page's own wording of some fields' help. The help is the field's
    description, so the answer to the field's inline check (_checked_field.html) keeps it."""

    class WithHelp(form_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for name, text in descriptions.items():
                self[name].description = text

    WithHelp.__name__ = WithHelp.__qualname__ = form_class.__name__
    return WithHelp
