"""Live checks of Twilio credentials: what the guided flow, the edit page and channel
configurations ask Twilio before they save anything."""
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from wizard.core.models import utcnow
from wizard.providers.transport import TwilioAccount
from wizard.providers.twilio import client as client_module
from wizard.providers.twilio.client import (
    Account,
    MessagingService,
    PhoneNumber,
    TwilioError,
    TwilioUnreachable,
    fetch_account,
    fetch_messaging_service,
    list_account_numbers,
    list_service_numbers,
)

# Twilio's codes that say which field is wrong.
AUTHENTICATION_FAILED = 20003


NOT_FOUND = 20404


class CheckFailed(Exception):
    """A live check said no. `field` names the form field to show it beside (None: the form)."""

    def __init__(self, message: str, field: str | None = None, retry: bool = False):
        super().__init__(message)
        self.message, self.field, self.retry = message, field, retry


def twilio_says(error: TwilioError) -> str:
    """Twilio's own code and text, as the admin will search for them."""
    if error.code is None:
        return error.message
    return _("Twilio error %(code)s: %(message)s", code=error.code, message=as_sentence(error.message))


def as_sentence(message: str) -> str:
    """Twilio's text ("Authenticate") ended like a sentence, so a hint can follow it."""
    message = (message or "").strip()
    return message if not message or message.endswith((".", "!", "?", "。")) else message + "."


def failed_check(error: TwilioError, not_found_field: str | None = None) -> CheckFailed:
    """Twilio's error as a step shows it: its code and text, with what to do for the usual ones."""
    if isinstance(error, TwilioUnreachable):
        return CheckFailed(_("%(reason)s. Your input is kept; try again.", reason=error.message), retry=True)
    if error.code == AUTHENTICATION_FAILED:
        return CheckFailed(
            twilio_says(error) + " " + _("Check the Account SID and Auth Token in the Account Info pane of the "
                                         "Twilio console."),
            field="auth_token",
        )
    if error.code == NOT_FOUND:
        return CheckFailed(twilio_says(error) + " " + _("It does not exist in this account."), field=not_found_field)
    return CheckFailed(twilio_says(error))


@dataclass
class AccountCheck:
    account: Account
    warning: str | None


ACCOUNT_STATUS = {"active": _l("active"), "suspended": _l("suspended"), "closed": _l("closed")}


def check_account(account: TwilioAccount) -> AccountCheck:
    """Fetch the account; refuse suspended and closed ones, warn about Trial ones."""
    try:
        found = fetch_account(account.client(), account.sid)
    except TwilioError as error:
        raise failed_check(error, "account_sid") from error
    if found.status != "active":
        raise CheckFailed(
            _("This Twilio account is %(status)s and cannot send messages. Reactivate it in the Twilio console first.",
              status=ACCOUNT_STATUS.get(found.status, found.status)),
            field="account_sid",
        )
    warning = None
    if found.type == "Trial":
        warning = _("This is a Trial account: it can only send messages to phone numbers verified in the "
                    "Twilio console, and every message starts with a trial notice.")
    return AccountCheck(found, warning)


def list_messaging_services(account: TwilioAccount) -> list[MessagingService]:
    try:
        return client_module.list_messaging_services(account.client())
    except TwilioError as error:
        raise failed_check(error, "account_sid") from error


def check_messaging_service(account: TwilioAccount, service_sid: str) -> MessagingService:
    try:
        return fetch_messaging_service(account.client(), service_sid)
    except TwilioError as error:
        raise failed_check(error, "messaging_service_sid") from error


@dataclass
class AvailableNumbers:
    in_service: list[PhoneNumber]
    on_account: list[PhoneNumber]  # every incoming number of the account

    def outside_service(self) -> list[PhoneNumber]:
        inside = {n.phone_number for n in self.in_service}
        return [n for n in self.on_account if n.phone_number not in inside]

    def problem_with(self, number: str) -> tuple[str | None, str | None]:
        """(error, warning) for a number the admin chose."""
        if number not in {n.phone_number for n in self.on_account}:
            return _("%(number)s is not a phone number of this Twilio account.", number=number), None
        if number not in {n.phone_number for n in self.in_service}:
            return None, _("%(number)s belongs to the account but not to the Messaging Service: messages "
                           "sent through the service will not use it until you add it to the service's sender pool.",
                           number=number)
        return None, None


def available_numbers(account: TwilioAccount, service_sid: str) -> AvailableNumbers:
    try:
        api = account.client()
        return AvailableNumbers(list_service_numbers(api, service_sid), list_account_numbers(api))
    except TwilioError as error:
        raise failed_check(error, "messaging_service_sid") from error


def verify_credential(credential) -> str | None:
    """Check a saved credential live and record the outcome on it (not saved); the reason if it failed.

    A custom provider has no request without side effects to ask: it counts as verified
    once a test request to it has been answered 2xx.
    """
    if credential.vendor == "custom":
        if credential.verification_state == "verified":
            return None
        return credential.verification_error or _(
            "No test request to %(provider)s has succeeded yet: send one from the API credential's page.",
            provider=credential.provider_name or credential.name)
    try:
        account = TwilioAccount.of(credential)
        checked = check_account(account)
        check_messaging_service(account, credential.messaging_service_sid)
    except CheckFailed as failure:
        credential.verification_state, credential.verification_error = "failed", failure.message
        return failure.message
    credential.verification_state, credential.verification_error = "verified", None
    credential.verified_at = utcnow()
    credential.account_name, credential.account_type = checked.account.friendly_name, checked.account.type
    return None
