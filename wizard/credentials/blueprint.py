"""The API credentials blueprint and the lookups its views share."""
from flask import Blueprint, abort, current_app
from flask_babel import lazy_gettext as _l

from wizard.core.models import ApiCredential, Sandbox

bp = Blueprint("credentials", __name__, url_prefix="/credentials")


VENDORS = {"twilio": _l("Twilio"), "custom": _l("Custom")}


def _sandboxes() -> list[Sandbox]:
    return list(Sandbox.select().order_by(Sandbox.name_key))


def _get(credential_id) -> ApiCredential:
    credential = ApiCredential.get_or_none(ApiCredential.id == credential_id)
    if credential is None:
        abort(404)
    return credential


def _links() -> dict:
    """Links to pages other parts of the app provide, once they exist."""
    views = current_app.view_functions
    return {"can_create": "guided.start" in views, "channel_links": "channels.detail" in views}
