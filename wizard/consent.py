"""The consent register of each sandbox."""
from flask import Blueprint

bp = Blueprint("consent", __name__, url_prefix="/consent")
