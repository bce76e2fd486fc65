"""Channel configurations: what a journey sends through."""
from flask import Blueprint

bp = Blueprint("channels", __name__, url_prefix="/channels")
