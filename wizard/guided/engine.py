"""The step engine: guided flows declared as data, and the draft of each run.

A flow is a list of steps; each step names its form, its template, an optional live
check and the note a trainer reads. A run keeps every step's input server-side,
encrypted, so it survives reloads and sign-outs, and two browser tabs are two runs."""
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from wizard.core.models import GuidedRun, utcnow
from wizard.providers.twilio.checks import CheckFailed


@dataclass
class CheckResult:
    """What a live check learned (kept in the draft and shown later) and its warnings."""

    facts: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)


@dataclass(frozen=True)
class Needs:
    """What a step can't go on without and another flow makes (RCS needs a Twilio credential):
    while it is missing, the step says so and offers to start that flow, which comes back to
    this run when it finishes."""

    met: Callable[["Run"], bool]
    flow: str  # the name of the flow that makes it
    message: str


@dataclass(frozen=True)
class Step:
    name: str  # the step's slug in its URL
    title: str
    template: str  # the step's fields, included by guided/step.html
    form: Callable[["Run"], type[FlaskForm]]  # the form class, given the run (earlier steps' values)
    check: Callable[["Run", dict], CheckResult] | None = None  # live check of valid input; raises CheckFailed
    context: Callable[["Run"], dict] | None = None  # more for the template, e.g. choices fetched live
    secret_fields: tuple = ()  # write-only: a blank one keeps what the draft has...
    # ...unless this says it may not: handler(draft values, typed values) -> the secret fields whose
    # kept value would go elsewhere now (e.g. to another host); those are cleared instead.
    moved_secrets: Callable[[dict, dict], set] | None = None
    why: str = ""  # the trainer's "Why this step" note
    # The step's own buttons beside Back/Next: action name -> handler(run, form, argument) -> template context.
    actions: dict = field(default_factory=dict)
    # A choice that leaves this flow for another page (e.g. vendor Custom): handler(run, values) -> URL or None.
    branch: Callable[["Run", dict], str | None] | None = None
    needs: Needs | None = None  # what must exist first, and the flow that makes it

    def missing(self, run: "Run") -> Needs | None:
        """What the step needs and the run doesn't have yet, or None."""
        return self.needs if self.needs and not self.needs.met(run) else None


@dataclass(frozen=True)
class Flow:
    name: str
    title: str
    description: str
    steps: list[Step]
    review_template: str
    finish: Callable[["Run"], str]  # creates everything (inside one transaction); returns the URL to go to
    label_from: tuple = ("", "")  # (step, field) whose value names the run in lists
    review_context: Callable[["Run"], dict] | None = None  # more for the review template

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    def after(self, step: Step) -> Step | None:
        index = self.steps.index(step)
        return self.steps[index + 1] if index + 1 < len(self.steps) else None

    def before(self, step: Step) -> Step | None:
        index = self.steps.index(step)
        return self.steps[index - 1] if index > 0 else None


class Run:
    """A GuidedRun with its draft: per step, the values, what checks learned, warnings."""

    def __init__(self, row: GuidedRun, flow: Flow):
        self.row, self.flow = row, flow
        self.draft = row.data or {}
        self.draft.setdefault("values", {})
        self.draft.setdefault("facts", {})
        self.draft.setdefault("warnings", {})
        self.draft.setdefault("done", [])
        self.draft.setdefault("errors", {})

    @classmethod
    def start(cls, flow: Flow, user, sandbox, returns_to: "Run | None" = None) -> "Run":
        """A new run for the sandbox it is started in: its live checks reach what that sandbox reaches.
        `returns_to`: the run that waits for this one (a step's Needs) and is resumed when it finishes."""
        row = GuidedRun(token=secrets.token_urlsafe(16)[:22], flow=flow.name, user=user, step=flow.steps[0].name)
        data = {"sandbox_id": sandbox.id}
        if returns_to is not None:
            data["returns_to"] = {"flow": returns_to.flow.name, "token": returns_to.token}
        row.data = data
        row.save()
        return cls(row, flow)

    def discard(self):
        """The run ends: finished, abandoned, or left for another page."""
        self.row.delete_instance()

    @property
    def sandbox_id(self) -> int | None:
        """The sandbox the run was started in (None for runs started before it was kept)."""
        return self.draft.get("sandbox_id")

    @property
    def returns_to(self) -> tuple[str, str] | None:
        """(flow name, token) of the run waiting for this one to finish, if any."""
        waiting = self.draft.get("returns_to")
        return (waiting["flow"], waiting["token"]) if waiting else None

    @property
    def token(self) -> str:
        return self.row.token

    # The storage API: flows and practice reach a run's draft only through these.
    def get_step_data(self, step: str) -> dict:
        """What the step holds: the values typed, valid or not (secrets included)."""
        return self.draft["values"].get(step, {})

    def set_step_data(self, step: str, values: dict):
        """Put values into a step, e.g. a default for its first visit; kept with the next save."""
        self.draft["values"][step] = dict(values)

    values = get_step_data

    def save(self):
        """Keep what set_step_data and set_fact put into the draft (e.g. a flow's defaults)."""
        self._save(self.flow.step(self.row.step) or self.flow.steps[0])

    def value(self, step: str, name: str, default=None):
        return self.values(step).get(name, default)

    def facts(self, step: str) -> dict:
        return self.draft["facts"].get(step, {})

    def set_fact(self, step: str, name: str, value):
        """Remember what an action learned (e.g. a test request's outcome); kept with the next save."""
        self.draft["facts"].setdefault(step, {})[name] = value

    def warnings(self, step: str) -> list:
        return self.draft["warnings"].get(step, [])

    def is_done(self, step: Step) -> bool:
        return step.name in self.draft["done"]

    def first_open_step(self) -> Step | None:
        return next((s for s in self.flow.steps if not self.is_done(s)), None)

    def can_open(self, step: Step) -> bool:
        """A step opens once every step before it is done."""
        return all(self.is_done(s) for s in self.flow.steps[: self.flow.steps.index(step)])

    def keep_typed(self, step: Step, typed: dict, rejected: str | None = None):
        """Keep what was typed, valid or not (Back, a failed Next): the step shows it again.
        A secret the live check `rejected` (e.g. a wrong Auth Token) is not kept: it is typed again."""
        self.draft["values"][step.name] = self.with_secrets(step, typed)
        if rejected in step.secret_fields:
            self.draft["values"][step.name][rejected] = ""
        self.draft["errors"].pop(step.name, None)
        self._save(step)

    def complete(self, step: Step, values: dict, result: CheckResult):
        self.draft["values"][step.name] = self.with_secrets(step, values)
        self.draft["facts"][step.name] = result.facts
        self.draft["warnings"][step.name] = result.warnings
        self.draft["errors"].pop(step.name, None)
        if step.name not in self.draft["done"]:
            self.draft["done"].append(step.name)
        following = self.flow.after(step)
        self._save(following or step)

    def reopen(self, step: Step, errors: dict):
        """Finish found this step no longer valid: open it again with the errors."""
        self.draft["done"] = [name for name in self.draft["done"] if name != step.name]
        self.draft["errors"][step.name] = errors
        self._save(step)

    def errors(self, step: Step) -> dict:
        return self.draft["errors"].get(step.name, {})

    def with_secrets(self, step: Step, values: dict) -> dict:
        """The values with each blank secret filled from the draft, unless the step says it moved."""
        merged, kept = dict(values), self.values(step.name)
        moved = step.moved_secrets(kept, merged) if step.moved_secrets else set()
        for name in step.secret_fields:
            if not merged.get(name):
                merged[name] = "" if name in moved else kept.get(name, "")
        return merged

    def _save(self, current: Step):
        step_name, field_name = self.flow.label_from
        self.row.label = str(self.value(step_name, field_name, "") or "")[:255]
        self.row.step = current.name
        self.row.data = self.draft
        self.row.updated_at = utcnow()
        self.row.save()

    def form_for(self, step: Step, formdata=None) -> FlaskForm:
        """The step's form: from the request when posted, else filled from the draft."""
        form_class = step.form(self)
        if formdata is not None:
            return form_class(formdata=formdata)
        values = {k: v for k, v in self.values(step.name).items() if k not in step.secret_fields}
        return form_class(formdata=None, data=values)

    def revalidate(self, step: Step) -> tuple[bool, dict, CheckResult | None]:
        """Validate a step again from the draft, live check included (for Finish)."""
        values = self.values(step.name)
        form = step.form(self)(formdata=MultiDict(_as_form_items(values)), meta={"csrf": False})
        if not form.validate():
            return False, {name: list(map(str, errs)) for name, errs in form.errors.items()}, None
        if step.check is None:
            return True, {}, CheckResult()
        try:
            return True, {}, step.check(self, submitted(form))
        except CheckFailed as failure:
            return False, {failure.field or "": [failure.message]}, None


def submitted(form: FlaskForm) -> dict:
    """A form's data without the CSRF token and buttons, as JSON-friendly values."""
    return {name: value for name, value in form.data.items() if name not in ("csrf_token", "action")}


def _as_form_items(values: dict, prefix: str = ""):
    """A draft's values as the form fields a browser would post (FieldLists as name-0-part)."""
    for name, value in values.items():
        key = f"{prefix}{name}"
        if value is True:
            yield key, "y"
        elif value is False or value is None:
            continue
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    yield from _as_form_items(item, prefix=f"{key}-{index}-")
                else:
                    yield f"{key}-{index}", str(item)
        else:
            yield key, str(value)
