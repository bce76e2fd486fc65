"""Reading pages: a response's text, and the error shown under a form field."""
import re


def text(response):
    return response.get_data(as_text=True)


def field_error(html, field_id):
    """The error message shown right under a field, or None."""
    match = re.search(rf'id="{field_id}-error" class="field-error">([^<]*)<', html)
    return match.group(1) if match else None
