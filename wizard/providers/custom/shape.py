"""A provider's sample JSON with placeholders, read as the shape of its real requests.

The admin pastes the provider's sample body and writes `{{Name}}` where a value is, e.g.
`{"message": {"text": "{{InboundMessage}}"}}`. A placeholder is a whole string value; its
path through objects and array indexes is where a real request carries that value."""
import json
import re
from dataclasses import dataclass, field

from wizard.core import json_text

# Placeholders the app reads, per webhook type, in the order the form names them.
REQUIRED = {
    "inbound": ("InboundMessage", "ProfileNumber", "RequestID", "OriginTimestamp", "InboundNumber"),
    "feedback": ("clientReference", "code", "status"),
}


PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


class ShapeMismatch(ValueError):
    """A request body that doesn't have the sample's shape; str() is the reason."""


@dataclass
class Shape:
    """What a sample says: where each placeholder is, and what is wrong with it."""

    paths: dict[str, tuple] = field(default_factory=dict)  # placeholder -> its (first) path
    repeated: dict[str, list[tuple]] = field(default_factory=dict)  # placeholder -> every path, when > 1
    embedded: list[tuple[str, tuple]] = field(default_factory=list)  # placeholders inside longer text

    def missing(self, required) -> list[str]:
        return [name for name in required if name not in self.paths]

    def unknown(self, required) -> list[str]:
        return [name for name in self.paths if name not in required]


def parse(template: str) -> Shape:
    """Read a sample; raises json.JSONDecodeError (with lineno and colno) when it isn't JSON."""
    shape = Shape()
    _walk(json_text.loads(template), (), shape)
    return shape


def parse_value(value) -> Shape:
    """The same for a sample already parsed."""
    shape = Shape()
    _walk(value, (), shape)
    return shape


def _walk(value, path: tuple, shape: Shape):
    if isinstance(value, dict):
        for key, item in value.items():
            _walk(item, (*path, key), shape)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, (*path, index), shape)
    elif isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value.strip())
        if whole:
            name = whole.group(1)
            if name in shape.paths:
                shape.repeated.setdefault(name, [shape.paths[name]]).append(path)
            else:
                shape.paths[name] = path
        else:
            shape.embedded.extend((match.group(1), path) for match in PLACEHOLDER.finditer(value))


def path_text(path: tuple) -> str:
    """A path as JSONPath: $.message.text, $.results[0].id, $["odd key"]."""
    text = "$"
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", step):
            text += f".{step}"
        else:
            text += f"[{json.dumps(step, ensure_ascii=False)}]"
    return text


def extract(template_paths: dict[str, tuple], body_json) -> dict:
    """Each placeholder's value in a parsed request body; ShapeMismatch names the first path
    that isn't there. A value is a string, number, boolean or null, never an object or list."""
    values = {}
    for name, path in template_paths.items():
        here = body_json
        for depth, step in enumerate(path):
            if isinstance(step, int):
                found = isinstance(here, list) and step < len(here)
            else:
                found = isinstance(here, dict) and step in here
            if not found:
                raise ShapeMismatch(f"missing field {path_text(path[:depth + 1])}")
            here = here[step]
        if isinstance(here, (dict, list)):
            kind = "an object" if isinstance(here, dict) else "a list"
            raise ShapeMismatch(f"field {path_text(path)} holds {kind}, not a value")
        values[name] = here
    return values


def fill(template: str, values: dict) -> str:
    """The sample with each placeholder replaced by its value: a body the receiver accepts."""

    def replace(value):
        if isinstance(value, dict):
            return {key: replace(item) for key, item in value.items()}
        if isinstance(value, list):
            return [replace(item) for item in value]
        if isinstance(value, str):
            whole = PLACEHOLDER.fullmatch(value.strip())
            if whole and whole.group(1) in values:
                return values[whole.group(1)]
        return value

    return json.dumps(replace(json_text.loads(template)), ensure_ascii=False, indent=2)
