"""Admin accounts: the first-run page, sign in and out, the account page (password, sign out
everywhere), adding and removing admins. Sessions live on the server (sessions.py); password
checks are counted per client (attempts.py)."""
from flask import Blueprint, current_app, flash, g, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from wizard.auth import attempts, sessions
from wizard.auth.forms import AccountForm, ChangePasswordForm, LoginForm
from wizard.core import audit
from wizard.core.db import database, write_transaction
from wizard.core.models import User, password_matches
from wizard.shell.pages import is_htmx, public, redirect_to, render, safe_return

bp = Blueprint("auth", __name__)


FIRST_RUN_ENDPOINTS = {"auth.first_run", "web.vendor", "static", "i18n.switch"}


def _has_admin() -> bool:
    # Admins never drop back to none (the last one can't be removed), so remember "yes".
    if not current_app.extensions.get("wizard.has_admin"):
        current_app.extensions["wizard.has_admin"] = User.select().exists()
    return current_app.extensions["wizard.has_admin"]


@bp.before_app_request
def load_user():
    view = current_app.view_functions.get(request.endpoint)
    if request.endpoint == "static" or getattr(view, "is_webhook", False):
        g.user = None  # no session needed: spare the query
        return None
    g.user = sessions.current_user()
    if view is None:
        return None  # the 404 page renders as it is
    if not _has_admin():
        return None if request.endpoint in FIRST_RUN_ENDPOINTS else redirect_to(url_for("auth.first_run"))
    if g.user is None and not getattr(view, "is_public", False):
        back = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect_to(url_for("auth.login", next=back))
    return None


@bp.route("/first-run", methods=["GET", "POST"])
@public
def first_run():
    if _has_admin():
        return redirect_to(url_for("auth.login"))
    form = AccountForm()
    if form.validate_on_submit():
        with write_transaction():  # reads, then writes
            if User.select().exists():  # someone else finished first run meanwhile
                return redirect_to(url_for("auth.login"))
            g.user = _create_admin(form)
        current_app.extensions["wizard.has_admin"] = True
        sessions.start(g.user)
        flash(_("Welcome! Your admin account is ready."), "success")
        return redirect_to(url_for("practice.start"))  # how do you want to start?
    return render("auth/first_run.html", status=422 if form.errors else 200, form=form)


def _create_admin(form: AccountForm) -> User:
    user = User(email=form.email.data.lower())
    user.set_password(form.password.data)
    user.save()
    audit.record("create", user, {"email": [None, user.email]})
    return user


def _too_many(wait: int) -> str:
    minutes = (wait + 59) // 60
    return ngettext(
        "Too many failed sign-ins from your address. Try again in %(num)d minute.",
        "Too many failed sign-ins from your address. Try again in %(num)d minutes.",
        minutes,
    )


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if g.user is not None:
        return redirect_to(url_for("web.home"))
    form = LoginForm()
    error, status = None, 200
    if request.method == "POST":
        client = attempts.client()
        if not form.validate_on_submit():
            status = 422
        elif wait := attempts.reserve(client):  # counted before the password is checked
            error, status = _too_many(wait), 429
        else:
            user = User.get_or_none(User.email == form.email.data.lower())
            if password_matches(user, form.password.data):  # an unknown email costs a check too
                attempts.clear(client)
                sessions.start(user)
                return redirect_to(safe_return(request.args.get("next")))
            # Never what was typed: people type their password into the email field.
            current_app.logger.warning("failed sign-in from %s", client)
            error, status = _("The email or password is not right."), 401
    return render("auth/login.html", status=status, form=form, error=error)


@bp.route("/logout", methods=["POST"])
def logout():
    sessions.end()
    flash(_("You are signed out."), "success")
    return redirect_to(url_for("auth.login"))


def _account_page(form, status=200):
    return render("auth/account.html", "auth/_account_section.html", status=status, form=form,
                  browsers=sessions.count(g.user))


@bp.route("/account")
def account():
    return _account_page(ChangePasswordForm(formdata=None))


@bp.route("/account/password", methods=["POST"])
def change_password():
    """A new password: the current one is checked (counted like a sign-in), and every other
    session of the admin ends; this browser gets a new session key."""
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _account_page(form, status=422)
    client = attempts.client()
    if wait := attempts.reserve(client):
        form.current_password.errors.append(_too_many(wait))
        return _account_page(form, status=429)
    if not g.user.check_password(form.current_password.data):
        current_app.logger.warning("wrong current password in a password change from %s", client)
        form.current_password.errors.append(_("This is not your current password."))
        return _account_page(form, status=422)
    attempts.clear(client)
    with write_transaction():
        g.user.set_password(form.new_password.data)
        User.update(password_hash=g.user.password_hash).where(User.id == g.user.id).execute()
        audit.record("update", g.user, {"password": [None, None]}, secret_fields=("password",))
        sessions.keep_only_this_one(g.user)
    flash(_("Your password is changed. Your other sessions are signed out."), "success")
    if is_htmx():
        return _account_page(ChangePasswordForm(formdata=None))
    return redirect_to(url_for("auth.account"))


@bp.route("/account/sign-out-everywhere", methods=["POST"])
def sign_out_everywhere():
    """End every session of this admin, this browser's too."""
    sessions.end_all(g.user.id)
    session.clear()
    flash(_("You are signed out everywhere."), "success")
    return redirect_to(url_for("auth.login"))


def _admins_page(form, status=200):
    users = User.select().order_by(User.email)
    return render("auth/admins.html", "auth/_admins_section.html", status=status, form=form, users=users)


@bp.route("/admins", methods=["GET", "POST"])
def admins():
    form = AccountForm()
    if form.validate_on_submit():
        if User.select().where(User.email == form.email.data.lower()).exists():
            form.email.errors.append(_("An admin with this email already exists."))
        else:
            with database.atomic():
                user = _create_admin(form)
            flash(_("Admin %(email)s added.", email=user.email), "success")
            if is_htmx():
                return _admins_page(AccountForm(formdata=None))
            return redirect_to(url_for("auth.admins"))
    return _admins_page(form, status=422 if form.errors else 200)


@bp.route("/admins/<int:user_id>/delete", methods=["GET", "POST"])
def delete_admin(user_id):
    user = User.get_or_none(User.id == user_id)
    if user is None:
        return render("errors/404.html", "errors/_404.html", status=404)
    if request.method == "GET":
        return render("auth/delete_admin.html", user=user)
    with write_transaction():
        if User.select().count() <= 1:
            flash(_("%(email)s is the last admin and cannot be removed.", email=user.email), "error")
            if is_htmx():
                return _admins_page(AccountForm(formdata=None), status=409)
            return redirect_to(url_for("auth.admins"))
        audit.record("delete", user, {"email": [user.email, None]})
        sessions.end_all(user.id)  # every browser of theirs, in the same transaction
        user.delete_instance()
    if user.id == g.user.id:
        session.clear()
    flash(_("Admin %(email)s removed.", email=user.email), "success")
    if user.id == g.user.id:
        return redirect_to(url_for("auth.login"))
    return _admins_page(AccountForm(formdata=None)) if is_htmx() else redirect_to(url_for("auth.admins"))
