"""Checking one field as the admin leaves it, as contact-app does: the form's own URL with the
query flag `?_field=NAME`. The form is validated as it stands; nothing is saved or asked of a
provider. The answer is that field alone: 200 when it is fine, 422 with its messages."""
from flask import abort, request

FLAG = "_field"


def field_to_check() -> str | None:
    """The field this request asks to check alone, or None for a whole-form request."""
    return request.args.get(FLAG) or None


def check_field(form, allowed) -> tuple[str, int]:
    """Validate the form for the field the flag names: (its name, the status to answer with).
    A name the page does not check alone is refused with 400."""
    name = request.args[FLAG]
    if name not in allowed or name not in form:
        abort(400)
    if request.method == "POST":
        form.validate()
    return name, 422 if form[name].errors else 200
