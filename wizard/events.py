"""Events: inbound messages and delivery status, live."""
from flask import Blueprint

bp = Blueprint("events", __name__, url_prefix="/events")
