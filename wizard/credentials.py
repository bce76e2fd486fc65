"""API credentials: the list, edit, delete and Verify SMS connection."""
from flask import Blueprint

bp = Blueprint("credentials", __name__, url_prefix="/credentials")
