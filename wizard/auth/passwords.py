"""The weakest passwords are refused: the most common ones (a small list, common_passwords.txt),
ones holding the admin's email or the product's name, and ones that only repeat a few characters.
Each with its own message; the length rule is the form's."""
import re
from pathlib import Path

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

COMMON_PASSWORDS = frozenset(
    line.strip()
    for line in (Path(__file__).parent / "common_passwords.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
)


# The product's name, as a password might hold it (lowercased, spaces taken out).
PRODUCT_WORDS = ("twilio", "messagingsetup")


# A local part this short ("al@...") is in too many words to refuse; the whole address still counts.
SHORTEST_LOCAL_PART = 4


REPEATS = re.compile(r"^(.{1,4}?)\1+$", re.DOTALL)


def weakness(password: str, email: str | None) -> str | None:
    """Why the password is too weak, or None."""
    squeezed = re.sub(r"\s+", "", password.casefold())
    if REPEATS.match(password):
        return _l("This password only repeats the same few characters. Choose another.")
    if squeezed in COMMON_PASSWORDS:
        return _l("This password is one of the most common ones. Choose another.")
    email = (email or "").strip().casefold()
    local = email.split("@")[0]
    if email and (email in squeezed or (len(local) >= SHORTEST_LOCAL_PART and local in squeezed)):
        return _l("Don't use your email address in the password.")
    if any(word in squeezed for word in PRODUCT_WORDS):
        return _l("Don't use the product's name in the password.")
    return None


def strong_enough(email_field: str | None = None, email_of=None):
    """A WTForms validator: the password's weakness, if any, is the field's error. The email is
    another field of the form (`email_field`) or comes from `email_of()`."""

    def check(form, field):
        if field.errors:  # too short or too long already says enough
            return
        email = form[email_field].data if email_field else email_of()
        reason = weakness(field.data or "", email)
        if reason:
            raise ValidationError(reason)

    return check
