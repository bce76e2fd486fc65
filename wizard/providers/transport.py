"""Where a provider request goes: Twilio (or TWILIO_BASE_URL), or the app's own Twilio simulator.

The choice follows the sandboxes that own the credential, never the sandbox shown in the
browser's header: a practice credential reaches only the simulator from any page, and a real
credential's secrets never reach the simulator. A credential used in practice and real
sandboxes at once sends nothing.
"""
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from twilio.rest import Client
from werkzeug.exceptions import HTTPException

from wizard.core.models import CredentialNumber, Sandbox
from wizard.providers.twilio.client import TwilioError, WsgiAdapter, make_client
from wizard.providers.twilio.practice_store import DatabaseStore
from wizard.providers.twilio.simulator import TwilioSimulator, practice_seed

EXTENSION = "wizard.twilio_simulator"
# The receivers a simulated Twilio may call: ours, in-process.
RECEIVERS = {"twilio_receivers.status", "twilio_receivers.inbound"}

_creating = threading.Lock()


def simulator(app=None) -> TwilioSimulator:
    """This app's Twilio simulator, its state in the database (seeded with the practice data on first
    use, in any process), and its clock started in this process: it applies the status changes that
    are due, whichever process scheduled them. gunicorn.conf.py calls it in each worker as it starts."""
    app = app or current_app._get_current_object()
    found = app.extensions.get(EXTENSION)
    if found is None:
        with _creating:
            found = app.extensions.get(EXTENSION)
            if found is None:
                found = TwilioSimulator(seed=practice_seed, deliver=_deliverer(app), keep_requests=500,
                                        store=DatabaseStore(practice_seed))
                found.clock.start()
                app.extensions[EXTENSION] = found
    return found


def is_twilio(url: str) -> bool:
    """An https URL of Twilio's own (api.twilio.com, messaging.twilio.com, ...)."""
    try:
        parts = urlsplit((url or "").strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    return parts.scheme == "https" and (host == "twilio.com" or host.endswith(".twilio.com"))


@dataclass(frozen=True)
class Transport:
    """Where one credential's requests go."""

    practice: bool  # the app's Twilio simulator answers, in-process; nothing reaches the network
    twilio_base_url: str | None = None  # TWILIO_BASE_URL: Twilio's REST requests go to this origin instead
    refusal: str | None = None  # why nothing may be sent at all

    def twilio_client(self, account_sid: str, auth_token: str) -> Client:
        if self.refusal:
            raise TwilioError(None, self.refusal)
        if self.practice:
            return make_client(account_sid, auth_token, wsgi_app=simulator().wsgi_app)
        return make_client(account_sid, auth_token, base_url=self.twilio_base_url)

    def provider_adapter(self) -> WsgiAdapter | None:
        """What answers a custom provider's request instead of the network (practice), or None."""
        return WsgiAdapter(simulator().wsgi_app) if self.practice else None

    def provider_refusal(self, settings) -> str | None:
        """Why these custom-provider settings can't be sent this way, or None."""
        if self.refusal or not self.practice:
            return self.refusal
        urls = [settings.provider_url]
        if settings.auth_type == "oauth2":
            urls.append(settings.setting("oauth_token_url"))
        for url in urls:
            if not is_twilio(url):
                return _("This is a practice sandbox: only the Twilio simulator answers here, so only "
                         "https://…twilio.com URLs can be used. %(url)s was not contacted.", url=url or "—")
        return None


def for_sandboxes(sandboxes) -> Transport:
    """The transport of a credential used in these sandboxes (none: a real one)."""
    sandboxes = list(sandboxes)
    practice = [s for s in sandboxes if s.is_practice]
    if practice and len(practice) < len(sandboxes):
        real = [s for s in sandboxes if not s.is_practice]
        return Transport(False, refusal=_(
            "This credential is used in practice sandbox %(practice)s and in sandbox %(real)s. A credential is "
            "either practice (the Twilio simulator answers it) or real: use it in one kind of sandbox only.",
            practice=practice[0].name, real=real[0].name))
    if practice:
        return Transport(True)
    return Transport(False, twilio_base_url=current_app.config.get("TWILIO_BASE_URL") or None)


def for_sandbox(sandbox) -> Transport:
    return for_sandboxes([sandbox])


def for_sandbox_ids(sandbox_ids) -> Transport:
    return for_sandboxes(Sandbox.select().where(Sandbox.id.in_(list(sandbox_ids))))


def for_credential(credential) -> Transport:
    """The transport of a saved credential: by the sandboxes it has a number in."""
    return for_sandboxes(Sandbox.select().join(CredentialNumber)
                         .where(CredentialNumber.credential == credential.id).distinct())


@dataclass(frozen=True)
class TwilioAccount:
    """A Twilio account as the app reaches it: one value, instead of a SID and a token passed apart."""

    sid: str
    token: str = field(repr=False)  # the Auth Token: never in a repr, a log or a page
    transport: Transport

    @classmethod
    def of(cls, credential) -> "TwilioAccount":
        """A saved credential's account, reached by the sandboxes the credential is used in."""
        return cls(credential.account_sid, credential.auth_token, for_credential(credential))

    def client(self) -> Client:
        return self.transport.twilio_client(self.sid, self.token)


def _deliverer(app):
    """How the simulator's webhooks arrive: built as Twilio sends them, handed to this app's
    receivers in-process. A URL that is not one of our receivers is not delivered."""

    def deliver(url: str, params: dict, signature: str):
        target = urlsplit(url)
        try:
            endpoint, _args = app.url_map.bind(target.netloc or "localhost").match(target.path, method="POST")
        except HTTPException:
            return None
        if endpoint not in RECEIVERS:
            return None
        response = app.test_client().post(
            target.path, base_url=f"{target.scheme}://{target.netloc}", query_string=target.query,
            data=params, headers={"X-Twilio-Signature": signature})
        return response.status_code, response.get_data(as_text=True)

    return deliver
