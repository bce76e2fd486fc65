"""The Webhooks page's form per Twilio credential: log-only, and the secondary Auth Token."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField

from wizard.shell.fields import auth_token_validator, no_spaces


class WebhookSecurityForm(FlaskForm):
    """One credential's webhook security; its fields' ids carry the credential's id, since the
    page has one such form per credential."""

    webhook_log_only = BooleanField(_l("Log-only: accept unsigned requests and flag them (only while rolling out)"))
    secondary_auth_token = PasswordField(_l("Secondary Auth Token"), filters=[no_spaces],
                                         validators=[auth_token_validator])
    clear_secondary = BooleanField(_l("Remove the secondary Auth Token"))

    def __init__(self, *args, credential, **kwargs):
        kwargs.setdefault("data", {"webhook_log_only": credential.webhook_log_only})
        super().__init__(*args, **kwargs)
        for field in self:
            field.id = f"{field.id.replace('_', '-')}-{credential.id}"
