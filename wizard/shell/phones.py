"""Phone numbers, read by Google's libphonenumber (the phonenumbers package): validated by the
rules of their country, stored in E.164, and shown formatted with their country.

What an admin types may have spaces, dashes, parentheses and dots, and digits of any script
(Arabic-Indic, full-width): a valid number is stored as + and ASCII digits."""
import re

import phonenumbers
from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

# Digits (of any script), spaces, + (also full-width) - ( ) and dots; letters never spell digits here.
TYPED = re.compile(r"[\d\s().+＋\-]+")


EXAMPLE = "+1 415-555-0101"


def _parsed(text: str) -> phonenumbers.PhoneNumber | str:
    """The number `text` is, or the message saying why it is none."""
    text = (text or "").strip()
    if not TYPED.fullmatch(text):
        return _l("A phone number has only digits, spaces and + - ( ) ., e.g. %(example)s.", example=EXAMPLE)
    if not text.startswith(("+", "＋")):
        return _l("Start the number with + and its country code, e.g. %(example)s.", example=EXAMPLE)
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        return _l("This is not a valid phone number: check the country code and the number of digits, e.g. "
                  "%(example)s.", example=EXAMPLE)
    return number


def e164(value):
    """Filter: a valid number in E.164 (+ and ASCII digits); anything else as typed, for
    phone_number_validator to explain."""
    if not isinstance(value, str) or not value.strip():
        return value
    number = _parsed(value)
    if isinstance(number, phonenumbers.PhoneNumber):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return value.strip()


def phone_number_validator(form, field):
    """A phone number valid in its country (libphonenumber's rules), or nothing."""
    if not field.data:
        return
    number = _parsed(field.data)
    if not isinstance(number, phonenumbers.PhoneNumber):
        raise ValidationError(number)


def phone_label(text: str) -> str:
    """A stored number as people read it, with its country in the reader's language:
    "+1 415-555-0101 · United States". Text that is no valid number is returned as it is."""
    number = _parsed(text)
    if not isinstance(number, phonenumbers.PhoneNumber):
        return text
    shown = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    region = phonenumbers.region_code_for_number(number)
    country = Locale.parse(str(get_locale() or "en")).territories.get(region or "")
    return f"{shown} · {country}" if country else shown
