"""Checking one field as the admin leaves it, as contact-app does: the form's own URL with the
query flag `?_field=NAME`. The form is validated as it stands; nothing is saved or asked of a
provider. The answer is that field alone, from one template (_checked_field.html): 200 when it
is fine, 422 with its messages."""
from flask import abort, render_template, request

FLAG = "_field"
TEMPLATE = "_checked_field.html"


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


def checked_field(form, name: str, status: int, validate_url: str, group: str | None = None, **context):
    """The answer to a field check: the field `name` of `form` re-rendered with its messages,
    checking itself again at `validate_url`. `group` names one of the template's documented
    exceptions, a field whose answer brings other fields with it."""
    return render_template(TEMPLATE, form=form, f=form[name], validate_url=validate_url, group=group,
                           **context), status
