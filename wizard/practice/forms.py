"""The Simulate inbound reply form."""
from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from wizard.providers.twilio.simulator import PRACTICE_PHONE
from wizard.shell.phones import e164, phone_label, phone_number_validator


class InboundReplyForm(FlaskForm):
    # Ids of their own: the form shares pages (Events) with other forms.
    number = SelectField(_l("To"), coerce=int, validate_choice=True, id="inbound-number",
                         description=_l("The practice number the person texts."))
    from_number = StringField(_l("From"), filters=[e164], default=PRACTICE_PHONE, id="inbound-from", validators=[
        DataRequired(_l("Enter the number the reply comes from.")), phone_number_validator],
        description=_l("The person's phone, in E.164 format."))
    body = TextAreaField(_l("Message"), id="inbound-body", validators=[Length(max=1600, message=_l(
        "A message has at most 1600 characters."))],
        description=_l("Type any text, or send a keyword with its button."))

    def __init__(self, numbers, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.number.choices = [(n.id, f"{phone_label(n.phone_number)} · {n.credential.name}") for n in numbers]

    def message_body(self) -> str:
        """The quick reply whose button was pressed, else what was typed."""
        quick = request.form.get("quick", "")
        return quick if quick in QUICK_REPLIES else (self.body.data or "")


QUICK_REPLIES = ("STOP", "HELP", "YES")
