"""Setting up the Twilio side from the wizard: a Messaging Service created with our webhook URLs, the
account's numbers added to its sender pool, and who a Trial account may send to. One implementation for
the guided SMS flow's steps and its one-screen express setup; the admin confirms each change first."""
import secrets
from dataclasses import dataclass, field

from flask_babel import gettext as _

from wizard.core import audit
from wizard.core.db import database
from wizard.core.models import CredentialNumber, Sandbox
from wizard.messaging.receiver_urls import webhook_urls
from wizard.providers.transport import TwilioAccount
from wizard.providers.twilio import client as client_module
from wizard.providers.twilio.checks import failed_check
from wizard.providers.twilio.client import (
    TRIAL_PREFIX,
    TRIAL_UNVERIFIED,
    TRIAL_UNVERIFIED_CODE,
    MessagingService,
    PhoneNumber,
    TwilioError,
)

# Where numbers are bought: we never buy one.
BUY_NUMBERS_URL = "https://console.twilio.com/us1/develop/phone-numbers/manage/search"


VERIFIED_CALLER_IDS_URL = "https://console.twilio.com/us1/develop/phone-numbers/manage/verified"


def new_webhook_key() -> str:
    """The key of a number's webhook URLs, made before the number is saved (its service is set up first)."""
    return secrets.token_urlsafe(18)


def urls_for_key(key: str) -> dict:
    """Our inbound and status URLs for the credential-and-sandbox that will carry `key`."""
    return webhook_urls(CredentialNumber(webhook_key=key))


def create_service(account: TwilioAccount, friendly_name: str, urls: dict, sandbox: Sandbox) -> MessagingService:
    """Create the Messaging Service with our URLs on it, and audit it (on the sandbox it is set up for)."""
    try:
        service = client_module.create_messaging_service(account.client(), friendly_name,
                                                         inbound_request_url=urls["inbound"],
                                                         status_callback=urls["status"])
    except TwilioError as error:
        raise failed_check(error) from error
    with database.atomic():
        audit.record("update", sandbox, {"twilio_messaging_service_created": [None, {
            "sid": service.sid, "friendly_name": service.friendly_name, "account_sid": account.sid,
            "inbound_request_url": service.inbound_request_url, "status_callback": service.status_callback}]})
    return service


@dataclass
class PoolNumber:
    number: PhoneNumber
    service_sid: str | None = None  # the Messaging Service it is in, if any
    service_name: str | None = None


@dataclass
class SenderPool:
    """The account's numbers seen from one Messaging Service: in it, in another one, or in none."""

    service_sid: str
    numbers: list[PoolNumber] = field(default_factory=list)

    @property
    def in_service(self) -> list[PoolNumber]:
        return [n for n in self.numbers if n.service_sid == self.service_sid]

    @property
    def elsewhere(self) -> list[PoolNumber]:
        return [n for n in self.numbers if n.service_sid and n.service_sid != self.service_sid]

    @property
    def loose(self) -> list[PoolNumber]:
        return [n for n in self.numbers if not n.service_sid and n.number.sms]

    @property
    def sms_capable(self) -> bool:
        return any(n.number.sms for n in self.numbers)

    def find(self, number_sid: str) -> PoolNumber | None:
        return next((n for n in self.numbers if n.number.sid == number_sid), None)

    def by_phone(self, phone_number: str) -> PoolNumber | None:
        return next((n for n in self.numbers if n.number.phone_number == phone_number), None)


def sender_pool(account: TwilioAccount, service_sid: str) -> SenderPool:
    """Every number of the account, with the Messaging Service each one is in (Twilio allows one)."""
    try:
        api = account.client()
        held = {}
        for service in client_module.list_messaging_services(api):
            for number in client_module.list_service_numbers(api, service.sid):
                held[number.sid] = service
        numbers = client_module.list_account_numbers(api)
    except TwilioError as error:
        raise failed_check(error) from error
    pool = SenderPool(service_sid)
    for number in numbers:
        service = held.get(number.sid)
        pool.numbers.append(PoolNumber(number, service.sid if service else None,
                                       service.friendly_name if service else None))
    pool.numbers.sort(key=lambda n: (n.service_sid != service_sid, n.service_sid is not None, n.number.phone_number))
    return pool


def add_number(account: TwilioAccount, service_sid: str, number: PhoneNumber, sandbox: Sandbox) -> PhoneNumber:
    """Add the number to the service's sender pool; Twilio's refusal (e.g. 21712) raises CheckFailed."""
    try:
        added = client_module.add_service_number(account.client(), service_sid, number.sid)
    except TwilioError as error:
        raise failed_check(error) from error
    with database.atomic():
        audit.record("update", sandbox, {"twilio_sender_pool": [None, {
            "messaging_service_sid": service_sid, "phone_number": added.phone_number, "phone_number_sid": added.sid}]})
    return added


def verified_recipients(account: TwilioAccount) -> list[str]:
    """A Trial account's verified caller IDs: the only phones it can send to."""
    try:
        return client_module.list_verified_caller_ids(account.client())
    except TwilioError as error:
        raise failed_check(error) from error


def trial_refusal(to: str) -> TwilioError:
    """What Twilio would answer a Trial account's message to an unverified number: stopped before sending."""
    return TwilioError(TRIAL_UNVERIFIED_CODE, TRIAL_UNVERIFIED.format(to=to), 400)


def trial_context() -> dict:
    """What a page says about a Trial account: the explanation and the notice Twilio puts first."""
    return {"trial_explanation": trial_explanation(), "trial_prefix": TRIAL_PREFIX,
            "verified_url": VERIFIED_CALLER_IDS_URL}


def trial_explanation() -> str:
    return _("This is a Trial account: Twilio delivers its messages only to the phone numbers verified on the "
             "account (its verified caller IDs), and puts its trial notice before every message. Upgrade the account "
             "in the Twilio console to send to any number.")
