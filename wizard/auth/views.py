"""Admin accounts: the first-run page, sign in and out, adding and removing admins."""
import datetime

from flask import Blueprint, current_app, flash, g, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from wizard.auth.forms import AccountForm, LoginForm
from wizard.core import audit
from wizard.core.db import database
from wizard.core.models import FailedLogin, User, utcnow
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
    user_id = session.get("user_id")
    g.user = User.get_or_none(User.id == user_id) if user_id else None
    view = current_app.view_functions.get(request.endpoint)
    if view is None:
        return None  # the 404 page renders as it is
    if request.endpoint == "static" or getattr(view, "is_webhook", False):
        return None
    if not _has_admin():
        return None if request.endpoint in FIRST_RUN_ENDPOINTS else redirect_to(url_for("auth.first_run"))
    if g.user is None and not getattr(view, "is_public", False):
        back = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect_to(url_for("auth.login", next=back))
    return None


def _sign_in(user: User):
    session.clear()  # a fresh session on every sign-in: no fixation
    session["user_id"] = user.id
    session.permanent = True


@bp.route("/first-run", methods=["GET", "POST"])
@public
def first_run():
    if _has_admin():
        return redirect_to(url_for("auth.login"))
    form = AccountForm()
    if form.validate_on_submit():
        with database.atomic():
            if User.select().exists():  # someone else finished first run meanwhile
                return redirect_to(url_for("auth.login"))
            g.user = _create_admin(form)
        current_app.extensions["wizard.has_admin"] = True
        _sign_in(g.user)
        flash(_("Welcome! Your admin account is ready."), "success")
        return redirect_to(url_for("web.home"))
    return render("auth/first_run.html", status=422 if form.errors else 200, form=form)


def _create_admin(form: AccountForm) -> User:
    user = User(email=form.email.data.lower())
    user.set_password(form.password.data)
    user.save()
    audit.record("create", user, {"email": [None, user.email]})
    return user


def _client() -> str:
    return (request.remote_addr or "unknown")[:64]


def seconds_until_unblocked(client: str) -> int:
    """0 while the client may try; otherwise how long until its oldest recent failure expires."""
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    window = datetime.timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    recent = [
        row.at
        for row in FailedLogin.select(FailedLogin.at)
        .where(FailedLogin.client == client, FailedLogin.at > utcnow() - window)
        .order_by(FailedLogin.at.desc())
        .limit(limit)
    ]
    if len(recent) < limit:
        return 0
    return max(int((recent[-1] + window - utcnow()).total_seconds()), 1)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if g.user is not None:
        return redirect_to(url_for("web.home"))
    form = LoginForm()
    error, status = None, 200
    if request.method == "POST":
        wait = seconds_until_unblocked(_client())
        if wait:
            minutes = (wait + 59) // 60
            error = ngettext(
                "Too many failed sign-ins from your address. Try again in %(num)d minute.",
                "Too many failed sign-ins from your address. Try again in %(num)d minutes.",
                minutes,
            )
            status = 429
        elif not form.validate_on_submit():
            status = 422
        else:
            user = User.get_or_none(User.email == form.email.data.lower())
            if user is not None and user.check_password(form.password.data):
                FailedLogin.delete().where(FailedLogin.client == _client()).execute()
                _sign_in(user)
                return redirect_to(safe_return(request.args.get("next")))
            FailedLogin.create(client=_client())
            current_app.logger.warning("failed sign-in for %r from %s", form.email.data, _client())
            error, status = _("The email or password is not right."), 401
    return render("auth/login.html", status=status, form=form, error=error)


@bp.route("/logout", methods=["POST"])
def logout():
    session.clear()
    flash(_("You are signed out."), "success")
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
    with database.atomic():
        if User.select().count() <= 1:
            flash(_("%(email)s is the last admin and cannot be removed.", email=user.email), "error")
            if is_htmx():
                return _admins_page(AccountForm(formdata=None), status=409)
            return redirect_to(url_for("auth.admins"))
        audit.record("delete", user, {"email": [user.email, None]})
        user.delete_instance()
    if user.id == g.user.id:
        session.clear()
    flash(_("Admin %(email)s removed.", email=user.email), "success")
    if user.id == g.user.id:
        return redirect_to(url_for("auth.login"))
    return _admins_page(AccountForm(formdata=None)) if is_htmx() else redirect_to(url_for("auth.admins"))
