"""Reading pages: a response's text, and the error shown under a form field."""
import re


def text(response):
    return response.get_data(as_text=True)


def field_error(html, field_id):
    """The error message shown right under a field, or None."""
    match = re.search(rf'id="{field_id}-error" class="field-error">([^<]*)<', html)
    return match.group(1) if match else None


def selected_option(html, select_id):
    """(value, label) of the selected option of a select; a select without one shows its first."""
    select = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', html, re.S).group(1)
    options = re.findall(r'<option([^>]*)value="([^"]*)"([^>]*)>([^<]*)</option>', select)
    chosen = [o for o in options if "selected" in o[0] + o[2]] or options[:1]
    return chosen[0][1], chosen[0][3]


def option_values(html, select_id):
    """The values of a select's options, in order."""
    select = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'value="([^"]*)"', select)
