"""Record types that change (core.records.Change): the declaration start-up checks, and the
difference a reviewer is shown between an approved payload and the payload now."""

import pytest
from marshmallow import Schema, fields

from core.approvals import Difference, difference
from core.plugins import PluginError
from core.records import Change, RecordType, _check_changes


class PartSchema(Schema):
    code = fields.String(metadata={"sharing": "open", "code": True})


class EntrySchema(Schema):
    title = fields.String(metadata={"sharing": "open"})
    parts = fields.List(fields.Nested(PartSchema), metadata={"sharing": "open"})


def declared(version, *changes):
    return RecordType("notes.entry", EntrySchema, version=version, changes=tuple(changes))


def test_a_record_type_declares_one_change_per_version_after_the_first():
    _check_changes(declared(1))
    _check_changes(declared(3, Change(2, added=("parts.code",)), Change(3, removed=("gone",))))
    for wrong in (declared(2), declared(2, Change(3)), declared(3, Change(3), Change(2)),
                  declared(1, Change(2))):
        with pytest.raises(PluginError, match="declare one core.records.Change per version"):
            _check_changes(wrong)


def test_a_change_names_fields_as_the_schema_declares_them():
    with pytest.raises(PluginError, match="'parts.missing', which the schema does not"):
        _check_changes(declared(2, Change(2, added=("parts.missing",))))
    with pytest.raises(PluginError, match="removes 'title', which the schema still declares"):
        _check_changes(declared(2, Change(2, removed=("title",))))
    # removed, then added back by a later version: fine
    _check_changes(declared(3, Change(2, removed=("title",)), Change(3, added=("title",))))


def test_the_difference_names_each_changed_value_by_its_path():
    before = {"title": "A", "parts": [{"code": "x"}, {"code": "y"}], "gone": 1}
    after = {"title": "A", "parts": [{"code": "x", "law": ["tn-1"]}, {"code": "z"},
                                     {"code": "new"}], "added": True}
    assert difference(before, after) == [
        Difference("parts.1.law", None, ["tn-1"]),
        Difference("parts.2.code", "y", "z"),
        Difference("parts.3", None, {"code": "new"}),
        Difference("gone", 1, None),
        Difference("added", None, True),
    ]
    assert difference(before, before) == []
