"""Where a provider request goes: Twilio (or TWILIO_BASE_URL), or the app's own Twilio simulator."""
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app, has_request_context
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from wizard.core.context import current_sandbox
from wizard.providers.twilio.client import WsgiAdapter
from wizard.providers.twilio.simulator import TwilioSimulator, practice_seed

EXTENSION = "wizard.twilio_simulator"


# The receivers a simulated Twilio may call: ours, in-process.
RECEIVERS = {"twilio_receivers.status", "twilio_receivers.inbound"}


_creating = threading.Lock()


def simulator(app=None) -> TwilioSimulator:
    """This app's Twilio simulator, started with the practice seed on first use."""
    app = app or current_app._get_current_object()
    found = app.extensions.get(EXTENSION)
    if found is None:
        with _creating:
            found = app.extensions.get(EXTENSION)
            if found is None:
                found = TwilioSimulator(seed=practice_seed, deliver=_deliverer(app), keep_requests=500)
                app.extensions[EXTENSION] = found
    return found


def in_practice() -> bool:
    """Whether this request works in a practice sandbox."""
    if not has_request_context():
        return False
    sandbox = current_sandbox()
    return bool(sandbox is not None and sandbox.is_practice)


def simulator_for_this_request() -> TwilioSimulator | None:
    """The simulator when this request works in a practice sandbox; None: Twilio itself."""
    return simulator() if in_practice() else None


def _is_twilio(url: str) -> bool:
    try:
        parts = urlsplit((url or "").strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    return parts.scheme == "https" and (host == "twilio.com" or host.endswith(".twilio.com"))


@dataclass(frozen=True)
class PracticeTransport:
    """What a custom-provider send in a practice sandbox goes through: the simulator, never the network."""

    adapter: WsgiAdapter

    def refusal(self, settings) -> str | None:
        """Why these provider settings can't be sent from a practice sandbox, or None."""
        urls = [settings.provider_url]
        if settings.auth_type == "oauth2":
            urls.append(settings.setting("oauth_token_url"))
        for url in urls:
            if not _is_twilio(url):
                return _("This is a practice sandbox: only the Twilio simulator answers here, so only "
                         "https://…twilio.com URLs can be used. %(url)s was not contacted.", url=url or "—")
        return None


def provider_transport() -> PracticeTransport | None:
    found = simulator_for_this_request()
    return PracticeTransport(WsgiAdapter(found.wsgi_app)) if found is not None else None


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
