"""Reading a provider's sample JSON with placeholders as the shape of its real requests."""
import json

import pytest

from wizard.providers.custom.shape import (
    REQUIRED,
    ShapeMismatch,
    extract,
    fill,
    parse,
    path_text,
)

RCS_SAMPLE = """{
  "event": "message",
  "message": {"id": "{{RequestID}}", "text": "{{InboundMessage}}", "sentAt": "{{OriginTimestamp}}"},
  "contacts": [{"profile": {"phone": " {{ProfileNumber}} "}}, {"phone": "{{InboundNumber}}"}],
  "version": 2
}"""


def test_placeholders_map_to_their_paths_through_objects_and_arrays():
    shape = parse(RCS_SAMPLE)
    assert shape.paths == {
        "RequestID": ("message", "id"),
        "InboundMessage": ("message", "text"),
        "OriginTimestamp": ("message", "sentAt"),
        "ProfileNumber": ("contacts", 0, "profile", "phone"),
        "InboundNumber": ("contacts", 1, "phone"),
    }
    assert shape.missing(REQUIRED["inbound"]) == []
    assert shape.unknown(REQUIRED["inbound"]) == []
    assert shape.repeated == {} and shape.embedded == []


def test_only_string_values_that_are_a_whole_placeholder_count():
    shape = parse('{"a": "{{code}}", "b": "x {{status}}", "c": 5, "d": null, "{{clientReference}}": "k"}')
    assert shape.paths == {"code": ("a",)}
    assert shape.embedded == [("status", ("b",))]  # part of a longer text: an error for the form
    assert shape.missing(REQUIRED["feedback"]) == ["clientReference", "status"]


def test_a_placeholder_used_twice_is_reported_with_both_paths():
    shape = parse('{"a": "{{status}}", "b": ["{{status}}"]}')
    assert shape.paths == {"status": ("a",)}
    assert shape.repeated == {"status": [("a",), ("b", 0)]}


def test_unknown_placeholders_are_told_apart_from_the_required_ones():
    shape = parse('{"ref": "{{clientReference}}", "code": "{{code}}", "s": "{{status}}", "x": "{{channel}}"}')
    assert shape.missing(REQUIRED["feedback"]) == []
    assert shape.unknown(REQUIRED["feedback"]) == ["channel"]
    assert shape.unknown(REQUIRED["inbound"]) == ["clientReference", "code", "status", "channel"]


def test_invalid_json_raises_with_line_and_column():
    with pytest.raises(json.JSONDecodeError) as raised:
        parse('{\n  "a": "{{code}}"\n  "b": 1\n}')
    assert (raised.value.lineno, raised.value.colno) == (3, 3)


def test_paths_read_as_jsonpath():
    assert path_text(()) == "$"
    assert path_text(("message", "text")) == "$.message.text"
    assert path_text(("contacts", 0, "phone")) == "$.contacts[0].phone"
    assert path_text(("odd key", "2nd")) == '$["odd key"]["2nd"]'


def test_extract_reads_each_value_by_its_path():
    shape = parse(RCS_SAMPLE)
    body = {"event": "message", "extra": True,
            "message": {"id": "r-1", "text": "STOP", "sentAt": 1700000000},
            "contacts": [{"profile": {"phone": "+886912345678", "name": "A"}}, {"phone": "+14155550101"}]}
    assert extract(shape.paths, body) == {
        "RequestID": "r-1", "InboundMessage": "STOP", "OriginTimestamp": 1700000000,
        "ProfileNumber": "+886912345678", "InboundNumber": "+14155550101",
    }


def test_extract_names_the_first_missing_path():
    shape = parse(RCS_SAMPLE)
    with pytest.raises(ShapeMismatch, match=r"^missing field \$\.message\.text$"):
        extract(shape.paths, {"message": {"id": "r-1"}})
    with pytest.raises(ShapeMismatch, match=r"^missing field \$\.message$"):
        extract(shape.paths, {"msg": {}})
    message = {"id": "1", "text": "", "sentAt": ""}
    with pytest.raises(ShapeMismatch, match=r"^missing field \$\.contacts\[1\]$"):
        extract(shape.paths, {"message": message, "contacts": [{"profile": {"phone": "+1"}}]})
    with pytest.raises(ShapeMismatch, match=r"^missing field \$\.contacts\[0\]$"):
        extract(shape.paths, {"message": message, "contacts": {"0": {}}})


def test_extract_refuses_an_object_where_a_value_belongs():
    with pytest.raises(ShapeMismatch, match=r"^field \$\.status holds an object, not a value$"):
        extract({"status": ("status",)}, {"status": {"code": 1}})
    with pytest.raises(ShapeMismatch, match=r"^field \$\.status holds a list, not a value$"):
        extract({"status": ("status",)}, {"status": ["sent"]})


def test_extract_keeps_nulls_numbers_and_booleans():
    paths = {"code": ("code",), "status": ("s",), "clientReference": ("r",)}
    assert extract(paths, {"code": None, "s": True, "r": 12}) == {"code": None, "status": True, "clientReference": 12}


def test_fill_puts_values_where_the_placeholders_are():
    filled = json.loads(fill(RCS_SAMPLE, {"RequestID": "r-9", "InboundMessage": "HELP", "ProfileNumber": "+1555"}))
    assert filled["message"] == {"id": "r-9", "text": "HELP", "sentAt": "{{OriginTimestamp}}"}
    assert filled["contacts"][0]["profile"]["phone"] == "+1555"
    assert filled["version"] == 2
    assert extract(parse(RCS_SAMPLE).paths, filled)["InboundMessage"] == "HELP"
