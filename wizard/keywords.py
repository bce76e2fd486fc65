"""Keyword rules and the replies they get."""
from flask import Blueprint

bp = Blueprint("keywords", __name__, url_prefix="/keywords")
