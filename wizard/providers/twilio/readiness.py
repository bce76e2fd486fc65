"""Can it send to US phones? Each number's US registration, read live from Twilio.

US carriers block SMS from unregistered senders: a 10DLC number needs its Messaging Service's
A2P 10DLC campaign approved (else error 30034), a toll-free number needs its toll-free
verification approved (else 30032). Short codes and non-US numbers have other rules, which
are not checked here. A number that can't send to US phones yet is a warning, never a blocker.
"""
from dataclasses import dataclass, field

import phonenumbers
from flask_babel import lazy_gettext as _l

from wizard.providers.transport import TwilioAccount
from wizard.providers.twilio.checks import twilio_says
from wizard.providers.twilio.client import (
    Campaign,
    PhoneNumber,
    TwilioError,
    list_account_numbers,
    list_campaigns,
    list_service_numbers,
    list_tollfree_verifications,
)

A2P_CONSOLE = "https://console.twilio.com/us1/develop/sms/regulatory-compliance/a2p-10dlc-overview"


TOLL_FREE_CONSOLE = "https://console.twilio.com/us1/develop/sms/regulatory-compliance/toll-free-verifications"


SERVICES_CONSOLE = "https://console.twilio.com/us1/develop/sms/services"


# The North American toll-free area codes.
TOLL_FREE_CODES = {"800", "833", "844", "855", "866", "877", "888"}


# Kinds of number, by what US carriers ask of them.
US_LONG_CODE, TOLL_FREE, SHORT_CODE, NOT_US = "us_long_code", "toll_free", "short_code", "not_us"


KIND_NAMES = {
    US_LONG_CODE: _l("US local number (10DLC)"),
    TOLL_FREE: _l("Toll-free number"),
    SHORT_CODE: _l("Short code"),
    NOT_US: _l("Number outside the US"),
}


# Levels: ready (can send to US phones), warning (can't yet, or we can't tell), unchecked (no registration checked).
READY, WARNING, UNCHECKED = "ready", "warning", "unchecked"


@dataclass(frozen=True)
class Status:
    """What one Twilio status means to an admin, and what to do next."""
    level: str
    label: object  # a lazy string
    meaning: object
    next_step: object | None


# campaign_status of Compliance/Usa2p; None: the service has no campaign at all.
CAMPAIGN_STATUSES = {
    "VERIFIED": Status(READY, _l("A2P 10DLC campaign verified"),
                       _l("The Messaging Service's campaign is approved: its US local numbers can send to US phones."),
                       None),
    "IN_PROGRESS": Status(WARNING, _l("A2P 10DLC campaign in review"),
                          _l("The campaign was submitted and carriers are reviewing it, which can take several "
                             "days. Until it is approved, US carriers block these messages (error 30034)."),
                          _l("Wait for the review; Twilio emails you when it ends. Nothing to change now.")),
    "FAILED": Status(WARNING, _l("A2P 10DLC campaign failed"),
                     _l("Carriers rejected the campaign: messages from these numbers to US phones are blocked "
                        "(error 30034)."),
                     _l("Read the reasons on the campaign's page in the Twilio console, correct the campaign and "
                        "submit it again.")),
    None: Status(WARNING, _l("No A2P 10DLC campaign"),
                 _l("The Messaging Service has no A2P 10DLC campaign: US carriers block messages from its US local "
                    "numbers (error 30034)."),
                 _l("Register a brand and a campaign for this Messaging Service in the Twilio console.")),
}


UNKNOWN_CAMPAIGN = Status(WARNING, _l("A2P 10DLC campaign not approved"),
                          _l("Twilio reports a campaign status this page does not know: until it is verified, US "
                             "carriers may block these messages (error 30034)."),
                          _l("Open the campaign in the Twilio console to see what it needs."))


OUTSIDE_SERVICE = Status(WARNING, _l("Not in the Messaging Service"),
                         _l("A2P 10DLC campaigns belong to Messaging Services, and this number is in none of this "
                            "credential's: no campaign covers it (error 30034)."),
                         _l("Add the number to the Messaging Service's sender pool."))


# status of Tollfree/Verifications; None: no verification was ever submitted.
TOLL_FREE_STATUSES = {
    "TWILIO_APPROVED": Status(READY, _l("Toll-free verification approved"),
                              _l("The number is verified: it can send to US phones."), None),
    "PENDING_REVIEW": Status(WARNING, _l("Toll-free verification submitted"),
                             _l("The verification was submitted and waits for review. Until it is approved, "
                                "messages to US phones are blocked (error 30032)."),
                             _l("Wait for the review; Twilio emails you when it ends.")),
    "IN_REVIEW": Status(WARNING, _l("Toll-free verification in review"),
                        _l("Twilio is reviewing the verification. Until it is approved, messages to US phones are "
                           "blocked (error 30032)."),
                        _l("Wait for the review; Twilio emails you when it ends.")),
    "TWILIO_REJECTED": Status(WARNING, _l("Toll-free verification rejected"),
                              _l("Twilio rejected the verification: messages to US phones are blocked "
                                 "(error 30032)."),
                              _l("Correct what the reason names and submit the verification again in the "
                                 "Twilio console.")),
    None: Status(WARNING, _l("Toll-free number not verified"),
                 _l("No verification was submitted for this number: messages to US phones are blocked "
                    "(error 30032)."),
                 _l("Submit a toll-free verification in the Twilio console.")),
}


UNKNOWN_TOLL_FREE = Status(WARNING, _l("Toll-free verification not approved"),
                           _l("Twilio reports a verification status this page does not know: until it is approved, "
                              "messages to US phones may be blocked (error 30032)."),
                           _l("Open the verification in the Twilio console to see what it needs."))


NOT_CHECKED = {
    SHORT_CODE: Status(UNCHECKED, _l("No registration checked"),
                       _l("Short codes are approved by carriers when they are leased; no registration is checked "
                          "here."), None),
    NOT_US: Status(UNCHECKED, _l("No registration checked"),
                   _l("A2P 10DLC and toll-free verification are US rules; no registration is checked for this "
                      "number. Its own country may have rules of its own."), None),
}


@dataclass(frozen=True)
class NumberReadiness:
    phone_number: str
    kind: str
    twilio_status: str | None  # Twilio's own word (campaign_status or status), when it gave one
    status: Status | None  # None: it could not be read (see error)
    console_url: str | None
    reason: str | None = None  # the rejection reason, in Twilio's words
    error: str | None = None  # Twilio's code and text when a read failed

    @property
    def level(self) -> str:
        return self.status.level if self.status else WARNING

    @property
    def kind_name(self):
        return KIND_NAMES[self.kind]


@dataclass
class Readiness:
    """Every number's readiness, or why none could be read (`error`: Twilio's code and text)."""
    numbers: list[NumberReadiness] = field(default_factory=list)
    error: str | None = None

    @property
    def warnings(self) -> list[NumberReadiness]:
        return [n for n in self.numbers if n.level == WARNING]

    @property
    def level(self) -> str:
        if self.error or self.warnings:
            return WARNING
        return READY if any(n.level == READY for n in self.numbers) else UNCHECKED


def number_kind(phone_number: str) -> str:
    """Which US rule a number falls under."""
    text = (phone_number or "").strip()
    if not text.startswith("+"):
        return SHORT_CODE if text.isdigit() and 3 <= len(text) <= 8 else NOT_US
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return NOT_US
    if parsed.country_code != 1:
        return NOT_US
    national = str(parsed.national_number)
    if national[:3] in TOLL_FREE_CODES or phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.TOLL_FREE:
        return TOLL_FREE
    region = phonenumbers.region_code_for_number(parsed)
    return US_LONG_CODE if region in ("US", None) else NOT_US


def _campaign_readiness(number: str, service_sid: str, campaigns: list[Campaign] | TwilioError) -> NumberReadiness:
    console = f"{SERVICES_CONSOLE}/{service_sid}"
    if isinstance(campaigns, TwilioError):
        return NumberReadiness(number, US_LONG_CODE, None, None, console, error=twilio_says(campaigns))
    found = campaigns[0] if campaigns else None
    word = found.campaign_status if found else None
    status = CAMPAIGN_STATUSES.get(word, UNKNOWN_CAMPAIGN)
    return NumberReadiness(number, US_LONG_CODE, word, status, A2P_CONSOLE if found is None else console)


def _toll_free_readiness(client, number: PhoneNumber) -> NumberReadiness:
    try:
        verifications = list_tollfree_verifications(client, number.sid)
    except TwilioError as error:
        return NumberReadiness(number.phone_number, TOLL_FREE, None, None, TOLL_FREE_CONSOLE, error=twilio_says(error))
    found = verifications[0] if verifications else None
    word = found.status if found else None
    status = TOLL_FREE_STATUSES.get(word, UNKNOWN_TOLL_FREE)
    console = f"{TOLL_FREE_CONSOLE}/{found.sid}" if found else TOLL_FREE_CONSOLE
    return NumberReadiness(number.phone_number, TOLL_FREE, word, status, console,
                           reason=found.rejection_reason if found else None)


def us_readiness(account: TwilioAccount, service_sid: str, also: tuple[str, ...] = ()) -> Readiness:
    """The readiness of the Messaging Service's numbers, and of the account's numbers in `also`
    (a credential's incoming numbers) that are not in the service."""
    try:
        client = account.client()
        in_service = list_service_numbers(client, service_sid)
        pooled = {n.phone_number for n in in_service}
        outside = [n for n in also if n not in pooled]
        on_account = {n.phone_number: n for n in list_account_numbers(client)} if outside else {}
    except TwilioError as error:
        return Readiness(error=twilio_says(error))
    numbers = [*in_service, *(on_account.get(n) or PhoneNumber("", n) for n in dict.fromkeys(outside))]
    campaigns = None
    result = Readiness()
    for number in numbers:
        kind = number_kind(number.phone_number)
        if kind == TOLL_FREE and number.sid:
            result.numbers.append(_toll_free_readiness(client, number))
        elif kind == US_LONG_CODE and number.phone_number in pooled:
            if campaigns is None:
                try:
                    campaigns = list_campaigns(client, service_sid)
                except TwilioError as error:
                    campaigns = error
            result.numbers.append(_campaign_readiness(number.phone_number, service_sid, campaigns))
        elif kind in (US_LONG_CODE, TOLL_FREE):
            result.numbers.append(NumberReadiness(number.phone_number, kind, None, OUTSIDE_SERVICE,
                                                  f"{SERVICES_CONSOLE}/{service_sid}"))
        else:
            result.numbers.append(NumberReadiness(number.phone_number, kind, None, NOT_CHECKED[kind], None))
    return result
