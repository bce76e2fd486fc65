"""Guided setup: the flows page and the steps of every run, one URL per step."""
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from wizard.core.context import current_sandbox
from wizard.core.db import write_transaction
from wizard.core.models import ApiCredential, ChannelConfiguration, GuidedRun
from wizard.credentials.verify_views import MESSAGE_SID, current_status, test_message_context
from wizard.guided import express as express_setup
from wizard.guided.engine import CheckResult, Run, Step, submitted
from wizard.guided.flows import FLOWS
from wizard.guided.flows.rcs import rcs_summary
from wizard.guided.flows.sms import sandboxes_by_kind
from wizard.messaging.receiver_urls import reachability_warning, webhook_urls
from wizard.messaging.store import waiting_state
from wizard.providers.twilio.checks import CheckFailed
from wizard.shell.field_check import check_field, checked_field, field_to_check
from wizard.shell.pages import is_htmx, redirect_to, render

bp = Blueprint("guided", __name__, url_prefix="/setup")


@bp.route("")
def index():
    runs = (GuidedRun.select().where(GuidedRun.user == g.user.id, GuidedRun.flow.in_(list(FLOWS)))
            .order_by(GuidedRun.updated_at.desc()))
    return render("guided/index.html", flows=FLOWS.values(), runs=[Run(r, FLOWS[r.flow]) for r in runs])


@bp.route("/<flow_name>", methods=["POST"])
def start(flow_name):
    """Start a run; `return_to` (a run's token) is the run that waits for this one, from a step's Needs."""
    flow = FLOWS.get(flow_name) or abort(404)
    waiting = _own_run(request.form.get("return_to", ""))
    run = Run.start(flow, g.user, current_sandbox(), returns_to=waiting)
    return redirect_to(url_for("guided.step", flow_name=flow.name, token=run.token, step_name=flow.steps[0].name))


def _own_run(token: str, flow_name: str | None = None) -> Run | None:
    """The signed-in admin's unfinished run with this token (of this flow), or None."""
    row = GuidedRun.get_or_none(GuidedRun.token == token[:64], GuidedRun.user == g.user.id,
                                GuidedRun.flow.in_([flow_name] if flow_name else list(FLOWS)))
    return Run(row, FLOWS[row.flow]) if row else None


def _run(flow_name: str, token: str) -> Run:
    flow = FLOWS.get(flow_name) or abort(404)
    return _own_run(token, flow.name) or abort(404)


def _waiting_run(run: Run) -> Run | None:
    """The run that waits for `run` to finish, if it is still there."""
    return _own_run(run.returns_to[1], run.returns_to[0]) if run.returns_to else None


def _step_url(run: Run, step: Step | None) -> str:
    if step is None:
        return url_for("guided.review", flow_name=run.flow.name, token=run.token)
    return url_for("guided.step", flow_name=run.flow.name, token=run.token, step_name=step.name)


def _show(run: Run, step: Step, form, status=200, form_error=None, retry=False, result=None, **extra):
    context = {**(step.context(run) if step.context else {}), **extra}  # what an action found wins
    missing = step.missing(run)
    waiting = _waiting_run(run)
    return render(
        "guided/step.html", step.template, status=status, run=run, flow=run.flow, step=step, form=form,
        form_error=form_error, retry=retry, result=result, step_url=_step_url(run, step),
        missing=missing, missing_flow=FLOWS[missing.flow] if missing else None,
        waiting_flow=waiting.flow if waiting else None, **context,
    )


@bp.route("/<flow_name>/<token>/<step_name>", methods=["GET", "POST"])
def step(flow_name, token, step_name):
    run = _run(flow_name, token)
    step = run.flow.step(step_name) or abort(404)
    if not run.can_open(step):
        return redirect_to(_step_url(run, run.first_open_step()))
    if request.method == "GET":
        form = run.form_for(step)
        for name, errors in run.errors(step).items():  # Finish sent us back here
            if name in form:
                form[name].errors = errors
        form_error = " ".join(run.errors(step).get("", [])) or None
        return _show(run, step, form, form_error=form_error)

    form = run.form_for(step, formdata=request.form)
    action = request.form.get("action", "next")
    if field_to_check():  # a field was left: check just that one
        name, status = check_field(form, form.data)
        return checked_field(form, name, status, _step_url(run, step))
    if action == "back":
        run.keep_typed(step, submitted(form))
        return redirect_to(_step_url(run, run.flow.before(step)))
    if action == "save":  # a checklist item was ticked: keep it, nothing else
        run.keep_typed(step, submitted(form))
        return ("", 204) if is_htmx() else redirect_to(_step_url(run, step))
    name, _, argument = action.partition(":")  # e.g. remove_header:2
    if name in step.actions:
        return _step_action(run, step, form, name, argument)
    return _next(run, step, form, check_only=action == "check")


def _step_action(run: Run, step: Step, form, name: str, argument: str):
    """One of the step's own buttons (preset, preview, test request...): its fragment, or the step again."""
    context = step.actions[name](run, form, argument)
    if context.get("redirect"):  # the action finished the step (e.g. created what it chose)
        return redirect_to(context["redirect"])
    fragment = context.pop("fragment", None)
    if fragment and is_htmx():
        return render_template(fragment, run=run, step=step, form=form, step_url=_step_url(run, step), **context)
    return _show(run, step, context.pop("form", form), status=context.pop("status", 200), **context)


def _next(run: Run, step: Step, form, check_only: bool):
    """Next (or Check alone): validate, follow a branch, run the live check, then complete the step."""
    if not form.validate():
        run.keep_typed(step, submitted(form))
        return _show(run, step, form, status=422)
    values = run.with_secrets(step, submitted(form))
    elsewhere = step.branch(run, values) if step.branch else None
    if elsewhere:  # this run ends here: the choice is made on another page
        run.discard()
        return redirect_to(elsewhere)
    try:
        result = step.check(run, values) if step.check else CheckResult()
    except CheckFailed as failure:
        run.keep_typed(step, submitted(form), rejected=failure.field)
        if failure.field and failure.field in form:
            form[failure.field].errors = [failure.message]
            return _show(run, step, form, status=422)
        return _show(run, step, form, status=422, form_error=failure.message, retry=failure.retry)
    if check_only:  # the live check alone: show what Twilio said, stay on the step
        run.keep_typed(step, submitted(form))
        return _show(run, step, form, result=result)
    run.complete(step, values, result)
    return redirect_to(_step_url(run, run.flow.after(step)))


@bp.route("/<flow_name>/<token>/review", methods=["GET", "POST"])
def review(flow_name, token):
    run = _run(flow_name, token)
    if run.first_open_step() is not None:
        return redirect_to(_step_url(run, run.first_open_step()))
    if request.method == "GET":
        extra = run.flow.review_context(run) if run.flow.review_context else {}
        return render("guided/review.html", run=run, flow=run.flow, **extra)
    # Finish: every step is validated again (a name may have been taken, an account suspended).
    for step in run.flow.steps:
        ok, errors, _result = run.revalidate(step)
        if not ok:
            run.reopen(step, errors)
            flash(_("“%(step)s” needs your attention before you can finish.", step=step.title), "error")
            return redirect_to(_step_url(run, step))
    with write_transaction():  # finish reads, then writes, while callbacks may commit
        target = run.flow.finish(run)
        run.discard()
    current_app.logger.info("guided run %s of flow %s finished", run.token, run.flow.name)
    waiting = _waiting_run(run)
    if waiting is not None:  # the run that needed this one goes on where it was left
        flash(_("“%(finished)s” is finished. You are back in “%(flow)s”, where you left it.",
                finished=run.flow.title, flow=waiting.flow.title), "success")
        return redirect_to(_step_url(waiting, waiting.first_open_step()))
    return redirect_to(target)


@bp.route("/<flow_name>/<token>/discard", methods=["GET", "POST"])
def discard(flow_name, token):
    run = _run(flow_name, token)
    if request.method == "GET":
        return render("guided/discard.html", run=run, flow=run.flow)
    run.discard()
    flash(_("The unfinished setup was discarded."), "success")
    return redirect_to(url_for("guided.index"))


@bp.route("/sms/done/<int:credential_id>")
def sms_done(credential_id):
    credential = ApiCredential.get_or_none(ApiCredential.id == credential_id) or abort(404)
    numbers = list(credential.numbers)
    return render("guided/sms_done.html", numbers=numbers, urls={n.id: webhook_urls(n) for n in numbers},
                  warning=reachability_warning(), **test_message_context(credential), **waiting_state(credential.id))


@bp.route("/rcs/done/<int:configuration_id>")
def rcs_done(configuration_id):
    """The RCS setup's summary: what it created, with links, and what to do next."""
    configuration = ChannelConfiguration.get_or_none(ChannelConfiguration.id == configuration_id)
    if configuration is None or configuration.channel != "rcs":
        abort(404)
    return render("guided/rcs_done.html", **rcs_summary(configuration))


@bp.route("/sms/<token>/express", methods=["GET", "POST"])
def express(token):
    """Set up everything on one screen, once the account has passed: proposed, changeable, then all at once."""
    run = _run("sms", token)
    if not run.is_done(run.flow.step("account")):
        return redirect_to(_step_url(run, run.first_open_step()))
    posted = request.method == "POST"
    proposal = express_setup.propose(run, request.form.get("service") if posted else None)
    refresh = request.form.get("action") == "refresh"
    form = express_setup.build_form(run, proposal, formdata=request.form if posted else None, repropose=refresh)
    form.credential_id = run.facts("express").get("credential_id")  # a second press: the name is ours
    if not posted or refresh:
        return _express_page(run, form, proposal)
    if not form.validate():
        return _express_page(run, form, proposal, status=422)
    try:
        credential, message_sid = express_setup.set_it_all_up(run, form, proposal)
    except express_setup.StageFailed as failure:
        current_app.logger.info("express setup %s stopped at %s", run.token, failure.stage)
        proposal = express_setup.propose(run, request.form.get("service"))  # what is done now shows as done
        form = express_setup.build_form(run, proposal, formdata=request.form)
        return _express_page(run, form, proposal, status=422, failed=failure)
    run.discard()
    current_app.logger.info("express setup %s finished", run.token)
    if is_htmx():
        return _express_done(credential, message_sid)
    return redirect_to(url_for("guided.express_done", credential_id=credential.id, message_sid=message_sid))


def _express_page(run: Run, form, proposal, status=200, failed=None):
    return render("guided/express.html", "guided/_express.html", status=status, run=run, flow=run.flow, form=form,
                  proposal=proposal, stages=express_setup.STAGES, done=express_setup.done_stages(run), failed=failed,
                  sandboxes=sandboxes_by_kind(run), done_values=express_setup.done_values(run, proposal),
                  express_url=url_for("guided.express", token=run.token), new=express_setup.NEW,
                  **express_setup.trial_context())


def _express_done(credential, message_sid):
    numbers = list(credential.numbers)
    return render("guided/express_done.html", "guided/_express_done.html", credential=credential, numbers=numbers,
                  stages=express_setup.STAGES, **current_status(credential, message_sid))


@bp.route("/sms/express/<int:credential_id>/<message_sid>")
def express_done(credential_id, message_sid):
    credential = ApiCredential.get_or_none(ApiCredential.id == credential_id, ApiCredential.vendor == "twilio")
    if credential is None or not MESSAGE_SID.match(message_sid):
        abort(404)
    return _express_done(credential, message_sid)
