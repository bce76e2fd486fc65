"""Apply to Twilio: write a number's inbound and status URLs onto its credential's Messaging Service, and
audit it. One implementation for the Webhooks page and the guided express setup."""
from wizard.core import audit
from wizard.core.db import database
from wizard.core.models import CredentialNumber
from wizard.messaging.receiver_urls import webhook_urls
from wizard.providers.transport import TwilioAccount
from wizard.providers.twilio.client import update_messaging_service


def apply_webhooks(number: CredentialNumber) -> dict:
    """Set our URLs on the service (the number's own webhook off); returns them. Raises TwilioError."""
    credential = number.credential
    ours = webhook_urls(number)
    update_messaging_service(TwilioAccount.of(credential).client(), credential.messaging_service_sid,
                             inbound_request_url=ours["inbound"], status_callback=ours["status"],
                             use_inbound_webhook_on_number=False)
    with database.atomic():
        audit.record("update", credential, {"twilio_webhooks": [None, ours]})
    return ours
