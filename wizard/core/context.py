"""What a request works in: the current sandbox, chosen in the header."""
from flask import g, session

from wizard.core.models import Sandbox, User


def current_sandbox() -> Sandbox:
    """The sandbox this admin works in: the session's choice, else the saved one, else the first."""
    if "sandbox" not in g:
        chosen = session.get("sandbox_id")
        if chosen is None and g.get("user") is not None:
            chosen = g.user.sandbox_id
        g.sandbox = (Sandbox.get_or_none(Sandbox.id == chosen) if chosen else None) or (
            Sandbox.select().order_by(Sandbox.id).first()
        )
    return g.sandbox




def use_sandbox(user, sandbox: Sandbox):
    """Work in this sandbox from now on: kept in the session and on the admin's account."""
    session["sandbox_id"] = sandbox.id
    User.update(sandbox=sandbox).where(User.id == user.id).execute()
    g.sandbox = sandbox
