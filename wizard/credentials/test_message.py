"""Sending a test message through a Twilio credential: one path for the Verify page, the end of the guided
setup and its express screen. A Trial account's message to an unverified number is stopped before it is sent."""
from wizard.core.context import current_sandbox
from wizard.core.models import ApiCredential, CredentialNumber
from wizard.credentials.service_setup import trial_refusal, verified_recipients
from wizard.messaging import receiver_urls as receiver_urls_module
from wizard.messaging.store import record_sent
from wizard.providers.transport import TwilioAccount
from wizard.providers.twilio.client import SentMessage, send_message


def reporting_number(credential: ApiCredential) -> CredentialNumber | None:
    """The number whose status receiver hears about a test message: the one in this sandbox, if any."""
    numbers = sorted(credential.numbers, key=lambda n: n.sandbox_id != current_sandbox().id)
    return numbers[0] if numbers else None


def status_callback_url(credential: ApiCredential) -> str | None:
    """Where Twilio reports delivery: the status receiver of the credential's number in this sandbox."""
    number = reporting_number(credential)
    return receiver_urls_module.status_callback_url(number) if number else None


def is_trial(credential: ApiCredential) -> bool:
    return credential.account_type == "Trial"


def send_test_message(credential: ApiCredential, to: str, body: str) -> SentMessage:
    """Send and record it; raises TwilioError (a Trial account's unverified recipient: 21608, unsent),
    or CheckFailed when the verified numbers could not be listed."""
    account = TwilioAccount.of(credential)
    if is_trial(credential) and to not in verified_recipients(account):
        raise trial_refusal(to)
    sent = send_message(account.client(), to, credential.messaging_service_sid, body,
                        status_callback=status_callback_url(credential))
    number = reporting_number(credential)
    record_sent(credential=credential, sandbox=number.sandbox_id if number else current_sandbox(),
                message_sid=sent.sid, to_number=to, status=sent.status, body=body)
    return sent
