"""Guided setup: the flows page and the steps of every run."""
from flask import Blueprint

bp = Blueprint("guided", __name__, url_prefix="/setup")
