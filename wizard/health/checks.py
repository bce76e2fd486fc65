"""The health checks: one function per check of one credential in one sandbox, each answering an
Outcome; and a runner that runs many at once, each within its bound (HEALTH_CHECK_SECONDS).

A check that asks Twilio runs in a thread of its own, so a slow or down Twilio costs the page
at most the bound, and never blocks the other checks."""
import datetime
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import copy_current_request_context, current_app, g, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from wizard.core.db import database
from wizard.core.models import ApiCredential, CredentialNumber, InboundMessage, Sandbox, StatusEvent, utcnow
from wizard.messaging.receiver_urls import webhook_urls
from wizard.messaging.statuses import error_meaning, error_page
from wizard.providers.transport import TwilioAccount
from wizard.providers.twilio.checks import ACCOUNT_STATUS, AUTHENTICATION_FAILED, NOT_FOUND, twilio_says
from wizard.providers.twilio.client import TwilioError, fetch_account, fetch_messaging_service
from wizard.providers.twilio.readiness import READY, us_readiness

OK, WARNING, FAIL, INFO = "ok", "warning", "fail", "info"


TWILIO_CHECKS = ("account", "service", "webhooks", "failures", "readiness")


CUSTOM_CHECKS = ("test_request", "oauth")


# The checks about one sandbox's numbers and events (the others are about the credential alone).
SANDBOX_CHECKS = {"webhooks", "failures"}


TITLES = {
    "account": _l("Auth Token and account"),
    "service": _l("Messaging Service"),
    "webhooks": _l("Webhooks at Twilio"),
    "failures": _l("Delivery failures, last 24 hours"),
    "readiness": _l("US sending readiness"),
    "test_request": _l("Last test request"),
    "oauth": _l("OAuth 2.0 access token"),
}


FAILURE_WINDOW = datetime.timedelta(hours=24)


ACCOUNT_TYPES = {"Trial": _l("Trial"), "Full": _l("Full")}


@dataclass
class Outcome:
    level: str  # ok, warning, fail, info
    summary: str
    details: dict = field(default_factory=dict)  # what the check's template shows besides the summary


def checks_of(credential: ApiCredential) -> tuple[str, ...]:
    if credential.vendor == "custom":
        return CUSTOM_CHECKS if credential.auth_type == "oauth2" else CUSTOM_CHECKS[:1]
    return TWILIO_CHECKS


def credentials_in(sandbox: Sandbox) -> list[ApiCredential]:
    return list(ApiCredential.select().join(CredentialNumber).where(CredentialNumber.sandbox == sandbox)
                .order_by(ApiCredential.name_key).distinct())


def _twilio_failed(error: TwilioError) -> Outcome:
    return Outcome(FAIL, twilio_says(error), {"code": error.code})


def check_account(credential, sandbox) -> Outcome:
    try:
        account = fetch_account(TwilioAccount.of(credential).client(), credential.account_sid)
    except TwilioError as error:
        if error.code == AUTHENTICATION_FAILED:
            return Outcome(FAIL, twilio_says(error) + " " + _(
                "The stored Auth Token is no longer valid: it was changed or the account was closed. "
                "Type the current one on the API credential's page."), {"code": error.code})
        return _twilio_failed(error)
    status = str(ACCOUNT_STATUS.get(account.status, account.status))
    if account.status != "active":
        return Outcome(FAIL, _("The Auth Token works, but the account %(name)s is %(status)s: it cannot send "
                               "messages.", name=account.friendly_name, status=status))
    return Outcome(OK, _("The Auth Token works and the account %(name)s is %(status)s (%(type)s).",
                         name=account.friendly_name, status=status,
                         type=str(ACCOUNT_TYPES.get(account.type, account.type))))


def check_service(credential, sandbox) -> Outcome:
    try:
        service = fetch_messaging_service(TwilioAccount.of(credential).client(), credential.messaging_service_sid)
    except TwilioError as error:
        if error.code == NOT_FOUND:
            return Outcome(FAIL, twilio_says(error) + " " + _(
                "The Messaging Service %(sid)s no longer exists in this account: choose another on the API "
                "credential's page.", sid=credential.messaging_service_sid), {"code": error.code})
        return _twilio_failed(error)
    return Outcome(OK, _("The Messaging Service %(name)s exists.", name=service.friendly_name))


def _last_signed(model, credential, sandbox):
    return (model.select(model.received_at)
            .where(model.credential == credential.id, model.sandbox == sandbox.id, model.signed == True)  # noqa: E712
            .order_by(model.received_at.desc()).scalar())


def check_webhooks(credential, sandbox) -> Outcome:
    """Drift: do the service's URLs at Twilio still point here? And when did Twilio last call?"""
    number = CredentialNumber.get_or_none(CredentialNumber.credential == credential.id,
                                          CredentialNumber.sandbox == sandbox.id)
    last = {"inbound": _last_signed(InboundMessage, credential, sandbox),
            "status": _last_signed(StatusEvent, credential, sandbox)}
    try:
        service = fetch_messaging_service(TwilioAccount.of(credential).client(), credential.messaging_service_sid)
    except TwilioError as error:
        outcome = _twilio_failed(error)
        outcome.details.update(last=last)
        return outcome
    ours = webhook_urls(number)
    expected = {"inbound": service.inbound_request_url == ours["inbound"] and not service.use_inbound_webhook_on_number,
                "status": service.status_callback == ours["status"]}
    details = {"service": service, "ours": ours, "number_id": number.id, "last": last, "expected": expected}
    if not all(expected.values()):
        return Outcome(FAIL, _("The Messaging Service's webhooks at Twilio no longer point at this app: inbound "
                               "messages or delivery status go elsewhere."), details)
    return Outcome(OK, _("Twilio sends this Messaging Service's inbound messages and delivery status here."),
                   details)


@dataclass
class FailureGroup:
    code: str | None
    meaning: str | None
    page: str | None
    message_sids: list[str]


def check_failures(credential, sandbox) -> Outcome:
    since = utcnow() - FAILURE_WINDOW
    rows = (StatusEvent.select(StatusEvent.error_code, StatusEvent.message_sid)
            .where(StatusEvent.credential == credential.id, StatusEvent.sandbox == sandbox.id,
                   StatusEvent.status.in_(("undelivered", "failed")), StatusEvent.received_at >= since)
            .order_by(StatusEvent.received_at.desc()).tuples())
    groups: dict[str | None, list[str]] = {}
    for code, sid in rows:
        sids = groups.setdefault(code or None, [])
        if sid not in sids:
            sids.append(sid)
    found = [FailureGroup(code, str(error_meaning(code) or "") or None, error_page(code), sids)
             for code, sids in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0] or ""))]
    if not found:
        return Outcome(OK, _("No message failed in the last 24 hours."), {"groups": []})
    total = sum(len(group.message_sids) for group in found)
    return Outcome(WARNING, ngettext("%(num)d message failed in the last 24 hours.",
                                     "%(num)d messages failed in the last 24 hours.", total), {"groups": found})


def check_readiness(credential, sandbox) -> Outcome:
    numbers = tuple(n.phone_number for n in credential.numbers)
    readiness = us_readiness(TwilioAccount.of(credential), credential.messaging_service_sid, also=numbers)
    details = {"readiness": readiness}
    if readiness.error:
        return Outcome(WARNING, readiness.error, details)
    if readiness.warnings:
        return Outcome(WARNING, ngettext("%(num)d number can't send to US phones yet.",
                                             "%(num)d numbers can't send to US phones yet.", len(readiness.warnings)),
                       details)
    if readiness.level == READY:
        return Outcome(OK, _("Every number can send to US phones."), details)
    return Outcome(INFO, _("No US registration applies to these numbers."), details)


def check_test_request(credential, sandbox) -> Outcome:
    details = {"at": credential.verified_at}
    if credential.verification_state == "verified":
        return Outcome(OK, _("The last test request to %(provider)s was answered 2xx.",
                             provider=credential.provider_name or credential.name), details)
    if credential.verification_state == "failed":
        return Outcome(FAIL, credential.verification_error or _("The last test request failed."), details)
    return Outcome(WARNING, _("No test request has been sent yet: send one from the API credential's page."),
                   details)


def check_oauth(credential, sandbox) -> Outcome:
    expires = credential.oauth_expires_at
    details = {"expires": expires}
    if expires is None:
        return Outcome(INFO, _("No access token is cached: one is fetched with the next request."), details)
    if expires <= utcnow():
        return Outcome(INFO, _("The cached access token has expired: a new one is fetched with the next request."),
                       details)
    return Outcome(OK, _("A cached access token is valid."), details)


CHECKS: dict[str, Callable[[ApiCredential, Sandbox], Outcome]] = {
    "account": check_account, "service": check_service, "webhooks": check_webhooks, "failures": check_failures,
    "readiness": check_readiness, "test_request": check_test_request, "oauth": check_oauth,
}


def _in_this_context(job: Callable[[], Outcome]) -> Callable[[], Outcome]:
    """The job, run in a thread with this request's context (language, host) and its own database connection."""
    user = g.get("user")

    def run():
        g.user = user
        with database.connection_context():
            return job()

    return copy_current_request_context(run) if has_request_context() else _with_app(run)


def _with_app(run):
    app = current_app._get_current_object()

    def in_app():
        with app.app_context():
            return run()

    return in_app


def timed_out(seconds: float) -> Outcome:
    return Outcome(FAIL, _("No answer within %(seconds)s seconds: Twilio or the provider is slow or unreachable.",
                           seconds=seconds))


def run_within(jobs: dict, seconds: float) -> dict:
    """Run every job (key -> a callable answering an Outcome) at once; each gets `seconds`.
    A job that hasn't answered by then is reported as timed out (its thread ends on its own)."""
    results: dict = {}
    done = threading.Condition()
    logger = current_app.logger

    def runner(key, job):
        try:
            outcome = job()
        except Exception as error:  # a bug in one check must not hide the others
            logger.exception("health check %s failed", key)
            outcome = Outcome(FAIL, _("The check failed: %(error)s", error=type(error).__name__))
        with done:
            results[key] = outcome
            done.notify_all()

    for key, job in jobs.items():
        wrapped = _in_this_context(job)
        threading.Thread(target=runner, args=(key, wrapped), name=f"health-{key}", daemon=True).start()
    with done:
        done.wait_for(lambda: len(results) == len(jobs), timeout=seconds)
        answered = dict(results)
    return {key: answered.get(key) or timed_out(seconds) for key in jobs}


def run_check(credential: ApiCredential, sandbox: Sandbox, name: str, seconds: float) -> Outcome:
    return run_within({name: lambda: CHECKS[name](credential, sandbox)}, seconds)[name]


def run_all(credentials, sandbox: Sandbox, seconds: float) -> dict:
    """(credential id, check name) -> Outcome, for every check of every credential, all at once."""
    jobs = {(c.id, name): (lambda c=c, name=name: CHECKS[name](c, sandbox))
            for c in credentials for name in checks_of(c)}
    return run_within(jobs, seconds)
