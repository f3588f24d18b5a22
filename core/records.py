"""The record layer: what plugins document, and the one path by which records are written,
read and prepared to leave the node.

A plugin declares each record type (``register_record_types``) with a marshmallow schema
whose every field states its sharing class, and a model that mixes in ``RecordMixin``
(parts such as a case's incidents mix in ``RecordPartMixin``). Each ``never`` field is a
*sealed* column: it holds only AES-256-GCM ciphertext under the record's own data key, bound
to the record, the row and the field. Reading it needs the unlocked node, and — for people —
the ``core.identifying.view`` permission; every such read is written to the audit log.

An open free-text field (a title, a summary, a narrative) is *sealed at rest* too, unless its
metadata says ``"at_rest": "clear"``: the text as written sits sealed in a column
``<field>_original`` beside it, and the field's own column keeps only its scrubbed form (the
record's own identifying values, phone numbers, ID numbers and e-mail addresses replaced, as
for sharing), which lists, search and people without the permission read. Plugins assign the
attribute as usual: the assignment is held in memory and sealed by the next save, so no
written text ever reaches a clear column.
"""

from __future__ import annotations

import json
import uuid as uuid_module
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property, lru_cache
from typing import Any, ClassVar

from flask import Flask, abort, current_app
from flask_babel import gettext
from marshmallow import Schema, fields
from sqlalchemy import ForeignKey, Integer, LargeBinary, String, event, select
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from core import approvals, audit, clock, keystore
from core.access import deny
from core.columns import UTCDateTime
from core.extensions import db
from core.models import RecordTypeState, RecordWriter
from core.permissions import VIEW_IDENTIFYING
from core.places import gazetteer
from core.plugins import PluginError, plugin_manager, require_prefix, results_by_plugin
from core.redaction import (
    NEVER,
    OPEN,
    Policy,
    Redaction,
    _nested_schema,
    redact,
    secrets_of,
    sharing_of,
    undeclared_fields,
)
from core.scrub import Scrubber, Secrets

EXTENSION_KEY = "rabita.record_types"
SEALED = "sealed"
PREPARED = "_rabita_prepared_secrets"
UNSAVED = "_rabita_unsaved"
# How an open free-text field is kept at rest (metadata "at_rest"): sealed unless declared
# clear; its sealed column is named after it with this suffix.
AT_REST, CLEAR = "at_rest", "clear"
ORIGINAL = "_original"
PENDING = "_rabita_originals"  # texts assigned since the last save, by field: not sealed yet
WRITING = "_rabita_writing_clear"  # core itself writes a clear (scrubbed) form
FRESH = "_rabita_texts_fresh"  # clear forms in step with the texts and identifying values


@dataclass(frozen=True)
class Change:
    """What one version of a record type changed, declared with the record type.

    ``added``, ``removed``, ``reclassified``: dotted paths of the fields it added, removed or
    gave another sharing class (``incidents.legal_basis``). ``upgrade(record)``: brings one
    stored record up to this version (fills a new field from what the record already holds)
    and returns True if it changed the record; ``rabita records upgrade`` runs it once per
    record — again from the start if a run was interrupted, so it must leave a record it
    already upgraded as it is (the cases upgrade skips incidents that have a legal basis).
    A field this version added is left out of a payload while it is empty, so a
    record the change does not touch leaves exactly as before.
    """

    version: int
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    reclassified: tuple[str, ...] = ()
    upgrade: Callable[[Any], bool] | None = field(default=None, compare=False)
    note: str = ""


@dataclass(frozen=True)
class RecordType:
    """A kind of record a plugin keeps: ``<plugin>.<kind>``, its schema, model and version.

    ``review``: a reviewer who is not the author approves each payload before it may leave
    (instance config ``REVIEW_REQUIRED = {"<type>": bool}`` overrides it per type).
    ``form``: the form people write it with (WTForms, written by hand for them); every schema
    field is on it or named in ``not_on_form`` with the reason (``core.declaration`` checks).
    ``changes``: one ``Change`` per version after the first, in order (version 2 first):
    a record type at ``version=N`` declares N - 1 of them.
    ``data_subject``: False for a record about no person (an event): it needs no consent;
    the audiences its author chose (the model's ``chosen_audiences()``) say where it may go,
    and review still applies (``core.consent.allows``).
    """

    name: str
    schema: type[Schema] | None
    model: type | None = None
    version: int = 1
    label: str = ""
    review: bool = True
    form: type | None = None
    not_on_form: Mapping[str, str] = field(default_factory=dict, hash=False)
    changes: tuple[Change, ...] = ()
    data_subject: bool = True

    def added_since(self, version: int) -> tuple[str, ...]:
        """The fields added by the versions after ``version``."""
        return tuple(path for change in self.changes if change.version > version
                     for path in change.added)


# -- columns -------------------------------------------------------------------------------


def sealed_column(**kwargs: Any):
    """A column for one ``never`` field: ciphertext only, never a readable value."""
    return mapped_column(LargeBinary, nullable=True, info={SEALED: True}, **kwargs)


def blind_index_column():
    """Beside a sealed column ``<field>``, named ``<field>_index``: a keyed hash for lookups."""
    return mapped_column(String(64), nullable=True, index=True)


def original_column():
    """Beside an open free-text column ``<field>``, named ``<field>_original``: the text as
    written, sealed (``<field>`` keeps its scrubbed form)."""
    return sealed_column()


class RecordPartMixin:
    """A row that belongs to a record (an incident of a case): a stable id of its own."""

    uuid: Mapped[str] = mapped_column(String(36), default=lambda: str(uuid_module.uuid4()))


class RecordMixin(RecordPartMixin):
    """Columns every record has. The model sets ``__record_type__ = "<plugin>.<kind>"``."""

    __record_type__: ClassVar[str]

    uuid: Mapped[str] = mapped_column(
        String(36), unique=True, default=lambda: str(uuid_module.uuid4())
    )
    origin: Mapped[str] = mapped_column(String(64))
    # Raised on every change; also guards against two people saving the same version.
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    data_key: Mapped[bytes] = mapped_column(LargeBinary)

    @declared_attr
    def author_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"), index=True)

    @declared_attr.directive
    def __mapper_args__(cls):
        # Core sets the version (once per save); SQLAlchemy checks it on every UPDATE, so a
        # save based on an older version fails instead of overwriting a colleague's edit.
        return {"version_id_col": cls.version, "version_id_generator": False}


# -- the registry --------------------------------------------------------------------------


class RecordTypeRegistry:
    def __init__(self, record_types: Iterable[RecordType]):
        self._by_name: dict[str, RecordType] = {}
        for record_type in record_types:
            if record_type.name in self._by_name:
                raise ValueError(f"The record type {record_type.name!r} is declared twice.")
            self._by_name[record_type.name] = record_type

    def __iter__(self):
        return iter(self._by_name.values())

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def get(self, name: str) -> RecordType:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"No record type named {name!r} is registered.") from None


def init_app(app: Flask) -> None:
    declared = []
    for plugin, record_types in results_by_plugin(app, "register_record_types"):
        for record_type in record_types:
            require_prefix("record type", record_type.name, plugin, ".")
            _check_declaration(record_type)
            declared.append(record_type)
    app.extensions[EXTENSION_KEY] = RecordTypeRegistry(declared)
    app.extensions["rabita.scrubber"] = Scrubber(
        phone_regions=[r for _p, regions in results_by_plugin(app, "register_phone_regions")
                       for r in regions],
        patterns=[p for _p, patterns in results_by_plugin(app, "register_scrub_patterns")
                  for p in patterns],
    )


def record_types(app: Flask | None = None) -> RecordTypeRegistry:
    return (app or current_app).extensions[EXTENSION_KEY]


def type_of(record) -> RecordType:
    return record_types().get(record.__record_type__)


def review_required(record_type: RecordType) -> bool:
    return current_app.config.get("REVIEW_REQUIRED", {}).get(record_type.name, record_type.review)


def _check_declaration(record_type: RecordType) -> None:
    _check_changes(record_type)
    if record_type.schema is None:
        return
    undeclared = undeclared_fields(record_type.schema())
    if undeclared:
        raise PluginError(
            f"The record type {record_type.name!r} has fields without a sharing class: "
            f"{', '.join(undeclared)}. Give each metadata={{'sharing': 'open'|'generalise'|"
            "'never'}} (generalise also names its rule)."
        )
    if record_type.model is not None:
        _check_columns(record_type.name, record_type.schema(), record_type.model)


def _check_changes(record_type: RecordType) -> None:
    """A record type at version N declares the changes of versions 2..N, in order; the fields
    they add are in its schema, the fields they remove are not."""
    versions = [change.version for change in record_type.changes]
    if versions != list(range(2, record_type.version + 1)):
        raise PluginError(
            f"The record type {record_type.name!r} is at version {record_type.version} but "
            f"declares changes for versions {versions or 'none'}; declare one "
            "core.records.Change per version after the first, in order (2, 3, ...)."
        )
    if record_type.schema is None:
        return
    schema = record_type.schema()
    for change in record_type.changes:
        for path in change.added + change.reclassified:
            if _field_at(schema, path) is None:
                raise PluginError(f"In {record_type.name!r}, version {change.version} names "
                                  f"the field {path!r}, which the schema does not declare.")
        for path in change.removed:
            if _field_at(schema, path) is not None and not any(
                    path in later.added for later in record_type.changes
                    if later.version > change.version):
                raise PluginError(f"In {record_type.name!r}, version {change.version} removes "
                                  f"{path!r}, which the schema still declares.")


def _field_at(schema: Schema, path: str):
    """The schema field at a dotted path (through nested parts), or None."""
    head, _, rest = path.partition(".")
    schema_field = schema.fields.get(head)
    if schema_field is None or not rest:
        return schema_field
    nested = _nested_schema(schema_field)
    return None if nested is None else _field_at(nested, rest)


def _check_columns(name: str, schema: Schema, model: type) -> None:
    """Each `never` field is a sealed column; no sealed column holds a shareable field."""
    columns = model.__table__.columns
    relationships = model.__mapper__.relationships
    for field_name, schema_field in schema.fields.items():
        nested = _nested_schema(schema_field)
        if nested is not None and field_name in relationships:
            if sharing_of(schema_field) != NEVER:
                _check_columns(name, nested, relationships[field_name].mapper.class_)
            continue
        if is_open_text(schema_field):
            _check_text(name, field_name, schema_field, model)
        column = columns.get(schema_field.attribute or field_name)
        sealed = column is not None and column.info.get(SEALED, False)
        if sharing_of(schema_field) == NEVER and not sealed:
            raise PluginError(
                f"In {name!r}, the never field {field_name!r} is not stored in a sealed "
                "column; declare it with core.records.sealed_column()."
            )
        if sharing_of(schema_field) != NEVER and sealed:
            raise PluginError(
                f"In {name!r}, the field {field_name!r} is sealed but declared shareable; "
                "a sealed column holds only `never` values."
            )


def is_open_text(schema_field) -> bool:
    """An open field of free text (a string, or a list of strings) rather than codes."""
    if sharing_of(schema_field) != OPEN or schema_field.metadata.get("code"):
        return False
    inner = schema_field.inner if isinstance(schema_field, fields.List) else schema_field
    return isinstance(inner, fields.String)


def _check_text(name: str, field_name: str, schema_field, model: type) -> None:
    """An open text is sealed at rest unless declared clear: its ``_original`` column is
    there, and assignments to it are held for sealing (``_hold_as_original``)."""
    at_rest = schema_field.metadata.get(AT_REST, SEALED)
    if at_rest not in (SEALED, CLEAR):
        raise PluginError(
            f"In {name!r}, the open text {field_name!r} says at_rest={at_rest!r}; use "
            f"{SEALED!r} (the default) or {CLEAR!r}."
        )
    if at_rest == CLEAR:
        return
    attribute = schema_field.attribute or field_name
    original = model.__table__.columns.get(attribute + ORIGINAL)
    if attribute not in model.__table__.columns or original is None or not original.info.get(
            SEALED):
        raise PluginError(
            f"In {name!r}, the open text {field_name!r} is sealed at rest: declare "
            f"{attribute}{ORIGINAL} = core.records.original_column() beside it (or give it "
            f"metadata {{'at_rest': 'clear'}} if a copied database may show it as written)."
        )
    column_attribute = getattr(model, attribute)
    if not event.contains(column_attribute, "set", _hold_as_original):
        event.listen(column_attribute, "set", _hold_as_original, retval=True)


def _hold_as_original(row, value, _old, initiator):
    """An open text assigned by a plugin: held in memory until the save seals it; its clear
    column stays empty meanwhile, so an early flush writes nothing readable."""
    if row.__dict__.get(WRITING):
        return value
    row.__dict__.setdefault(PENDING, {})[initiator.key] = value
    return _empty_like(value)


def _empty_like(value):
    return [] if isinstance(value, list | tuple) else None if value is None else ""


@lru_cache(maxsize=256)
def _sealed_texts(schema_class: type[Schema]) -> tuple[str, ...]:
    """The attributes of ``schema_class``'s open texts kept sealed at rest."""
    return tuple(
        schema_field.attribute or name
        for name, schema_field in _schema_instance(schema_class).fields.items()
        if is_open_text(schema_field) and schema_field.metadata.get(AT_REST, SEALED) == SEALED
    )


# -- writing -------------------------------------------------------------------------------


def new(model: type, author) -> Any:
    """A new, unsaved record of ``model`` with its id, origin, author and data key."""
    record = model(
        uuid=str(uuid_module.uuid4()),
        origin=current_app.config.get("NODE_ID", "local"),
        author_id=getattr(author, "id", None),
        version=1,
    )
    data_key, record.data_key = keystore.new_data_key(model.__record_type__, record.uuid)
    record.__dict__["_rabita_data_key"] = data_key
    record.__dict__[UNSAVED] = True  # its first save keeps version 1
    return record


def set_identifying(record, row, field: str, value: Any) -> None:
    """Seal ``value`` into ``row.<field>`` (``row`` is the record or one of its parts)."""
    column = row.__table__.columns.get(field)
    if column is None or not column.info.get(SEALED):
        raise ValueError(f"{type(row).__name__}.{field} is not a sealed column.")
    if row.uuid is None:  # a new part: its id is part of what its ciphertext is bound to
        row.uuid = str(uuid_module.uuid4())
    record.__dict__.pop(FRESH, None)  # the open texts must be scrubbed of it again
    index = f"{field}_index"
    if value is None or value == "" or value == []:
        setattr(row, field, None)
        if index in row.__table__.columns:
            setattr(row, index, None)
        return
    _seal_into(record, row, field, json.dumps(value, ensure_ascii=False).encode())
    if index in row.__table__.columns:
        setattr(row, index, keystore.blind_index(f"{record.__record_type__}.{field}", str(value)))


def set_identifying_bytes(record, row, field: str, data: bytes) -> None:
    """Seal a file's bytes into ``row.<field>`` (attachments)."""
    if row.uuid is None:
        row.uuid = str(uuid_module.uuid4())
    _seal_into(record, row, field, data)


def identifying_bytes(record, row, field: str) -> bytes:
    """The plaintext bytes of a sealed file. No permission check: callers check and audit."""
    blob = getattr(row, field)
    return keystore.open_sealed(_data_key(record), _context(record, row, field), blob)


def _seal_into(record, row, field: str, plaintext: bytes) -> None:
    column = row.__table__.columns.get(field)
    if column is None or not column.info.get(SEALED):
        raise ValueError(f"{type(row).__name__}.{field} is not a sealed column.")
    setattr(row, field, keystore.seal(_data_key(record), _context(record, row, field), plaintext))


def save_new(batch: list, user, *, action: str) -> None:
    """Commit many new records at once (imports, sample data): one audit entry for them all."""
    if not batch:
        return
    for record in batch:
        record.__dict__.pop(UNSAVED, None)
        seal_texts(record)
    db.session.add_all(batch)
    db.session.add_all(_writer_of(record, user) for record in batch)
    db.session.flush()
    audit.record(action, actor=user, target_type=batch[0].__record_type__, records=len(batch))
    db.session.commit()


def save(record, user, *, action: str = "record.saved", at: datetime | None = None) -> None:
    """Commit a new version, re-check approvals, audit, then tell plugins (``record_saved``).

    ``at``: the time of the change, when the plugin already used it for derived data.
    """
    if not record.__dict__.pop(UNSAVED, False):
        record.version += 1
    seal_texts(record)
    record.updated_at = at or clock.now()
    db.session.add(record)
    db.session.add(_writer_of(record, user))
    db.session.flush()
    approvals.revoke_if_changed(record, lambda audience: redaction(record, audience).payload_hash)
    audit.record(action, actor=user, target_type=record.__record_type__, target_id=record.uuid,
                 version=record.version)
    db.session.commit()
    announce_saved(record, user)


def _writer_of(record, user) -> RecordWriter:
    """Who wrote this version (None: no known person — an import, sample data)."""
    return RecordWriter(record_type=record.__record_type__, record_uuid=record.uuid,
                        version=record.version, writer_id=getattr(user, "id", None))


def seal_texts(record) -> int:
    """Seal the open texts of ``record`` assigned since its last save, and write in each
    text's column its scrubbed form — scrubbed of the record's identifying values as they
    are now. A text written before texts were sealed (still only in its column) is sealed
    here too. Return how many texts were sealed. Every save calls it (needs the unlocked
    node); plugins call it before deriving anything from the texts (a search index)."""
    schema = type_of(record).schema
    if schema is None or not _has_sealed_texts(schema):
        return 0  # nothing to walk: its parts are not even loaded
    rows = list(_text_rows(record))
    pending = any(PENDING in row.__dict__ or _unsealed(row, attribute)
                  for row, attribute in rows)
    if not rows or (record.__dict__.get(FRESH) and not pending):
        return 0
    originals = [original_text(record, row, attribute) for row, attribute in rows]
    scrubbed = _scrubbed_all(record, originals)
    sealed = 0
    for (row, attribute), original, clear in zip(rows, originals, scrubbed, strict=True):
        sealed += _seal_text(record, row, attribute, original, clear)
    record.__dict__[FRESH] = True
    return sealed


def _seal_text(record, row, attribute: str, original, clear) -> int:
    """Seal ``original`` if it is new, and write ``clear`` into the text's own column."""
    held = row.__dict__.get(PENDING, {})
    new = attribute in held or _unsealed(row, attribute)
    if row.uuid is None:  # a new part: its id is part of what its ciphertext is bound to
        row.uuid = str(uuid_module.uuid4())
    if new and original in (None, "", [], ()):
        setattr(row, attribute + ORIGINAL, None)
    elif new:
        _seal_into(record, row, attribute + ORIGINAL,
                   json.dumps(original, ensure_ascii=False).encode())
    held.pop(attribute, None)
    if not held:
        row.__dict__.pop(PENDING, None)
    row.__dict__[WRITING] = True
    try:
        setattr(row, attribute, _fitted(row, attribute, clear))
    finally:
        row.__dict__.pop(WRITING, None)
    return int(new)


def _scrubbed_all(record, originals: list) -> list:
    """Each original text scrubbed, all of the record's at once (lists item by item)."""
    flat = [text for value in originals for text in _texts_of(value)]
    if not flat:
        return list(originals)
    scrubber = current_app.extensions["rabita.scrubber"]
    done = iter(scrubber.scrub_many(flat, record_secrets(record)))
    return [[next(done) for _ in value] if isinstance(value, list | tuple)
            else next(done) if value else value for value in originals]


def _texts_of(value) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [value] if value else []


def _fitted(row, attribute: str, clear):
    """The scrubbed form cut to its column's length (a placeholder is longer than a short
    name it replaces)."""
    length = getattr(row.__table__.columns[attribute].type, "length", None)
    return clear[:length] if length and isinstance(clear, str) else clear


def _unsealed(row, attribute: str) -> bool:
    """A text written before texts were sealed: in its column as written, no original."""
    return getattr(row, attribute + ORIGINAL) is None and bool(getattr(row, attribute))


@lru_cache(maxsize=256)
def _has_sealed_texts(schema_class: type[Schema]) -> bool:
    """Whether the schema or a part's schema has an open text kept sealed."""
    if _sealed_texts(schema_class):
        return True
    nested = (_nested_schema(field) for field in _schema_instance(schema_class).fields.values()
              if sharing_of(field) != NEVER)
    return any(_has_sealed_texts(type(schema)) for schema in nested if schema is not None)


def _text_rows(record):
    """(row, attribute) of every open text kept sealed, in the record and its parts."""
    yield from _text_rows_of(record, type_of(record).schema)


def _text_rows_of(row, schema_class):
    for attribute in _sealed_texts(schema_class):
        yield row, attribute
    for name, schema_field in _schema_instance(schema_class).fields.items():
        nested = _nested_schema(schema_field)
        if nested is None or sharing_of(schema_field) == NEVER:
            continue
        related = getattr(row, schema_field.attribute or name, None)
        for part in related if isinstance(related, list | tuple) else (
                [related] if related is not None else []):
            yield from _text_rows_of(part, type(nested))


def announce_saved(record: Any, user: Any) -> None:
    """Tell plugins a record's new version is committed (call only after the commit)."""
    plugin_manager().hook.record_saved(record=record, user=user)


# -- records other nodes shared ------------------------------------------------------------


@dataclass(frozen=True)
class SharedRecord:
    """A record another node shared with this one: its redacted payload, never more."""

    origin: str
    record_type: str
    record_id: str
    version: int
    payload_text: str | None  # the JSON text the origin signed the hash of; None once purged

    @cached_property
    def payload(self) -> dict | None:
        """The payload as a dict, parsed once (the inbox's statistics, the shared index and
        each plugin read it in turn)."""
        return None if self.payload_text is None else json.loads(self.payload_text)


def announce_shared_received(*shared: SharedRecord) -> None:
    """Tell plugins newer versions of shared records are being stored (in the transaction
    that stores them: a page of a sync announces hundreds)."""
    hook = plugin_manager().hook
    for one in shared:
        hook.shared_record_received(shared=one)


def announce_shared_purged(shared: SharedRecord) -> None:
    """Tell plugins a shared record is being purged (in its transaction): they delete what
    they derived from it, atomically with the purge."""
    plugin_manager().hook.shared_record_purged(shared=shared)


# -- reading -------------------------------------------------------------------------------


def find(record_type_name: str, record_uuid: str, user, *, loading: Iterable = ()):
    """The record of that type and id if ``user`` may open it; otherwise a 404, the same as
    for a record that does not exist. Every page that opens a record by id asks here.
    ``loading``: SQLAlchemy loader options for the parts the page reads next (loaded with
    the record in a few queries rather than one lazy load each)."""
    if record_type_name not in record_types():
        abort(404)
    model = record_types().get(record_type_name).model
    if model is None or not _is_uuid(record_uuid):
        abort(404)
    record = db.session.scalar(select(model).where(model.uuid == record_uuid).options(*loading))
    if record is None or not may_open(record, user):
        abort(404)
    return record


def may_open(record, user) -> bool:
    """Need to know: no plugin gives a reason to keep ``record`` from ``user``."""
    hook = plugin_manager().hook
    return not any(reasons for reasons in hook.access_blockers(record=record, user=user))


def _is_uuid(text: str) -> bool:
    try:
        return len(text) == 36 and str(uuid_module.UUID(text)) == text.lower()
    except ValueError:
        return False


def identifying_value(record, row, field: str) -> Any:
    """The plaintext of one sealed value. No permission check: callers check and audit."""
    blob = getattr(row, field)
    if blob is None:
        return None
    plaintext = keystore.open_sealed(_data_key(record), _context(record, row, field), blob)
    return json.loads(plaintext)


def original_text(record, row, attribute: str) -> Any:
    """An open text of ``row`` as written (sealed at rest). No permission check: callers
    check and audit."""
    held = row.__dict__.get(PENDING, {})
    if attribute in held:
        return held[attribute]
    blob = getattr(row, attribute + ORIGINAL)
    if blob is None:  # empty, or written before texts were sealed: the column holds it
        return getattr(row, attribute)
    return json.loads(keystore.open_sealed(_data_key(record),
                                           _context(record, row, attribute + ORIGINAL), blob))


def values(record, *, identifying: bool) -> dict:
    """The record serialised by its schema; `never` fields only when ``identifying``, and
    open texts as written when ``identifying`` (their scrubbed form otherwise)."""
    return _values(record, record, schema_of(type_of(record)), identifying)


def reveal(record, user, *, purpose: str = "view") -> dict:
    """Everything, identifying fields included, for a user allowed to see them (audited)."""
    if not user.can(VIEW_IDENTIFYING):
        deny(VIEW_IDENTIFYING)
    if not may_open(record, user):
        abort(404)
    result = values(record, identifying=True)
    audit.record("record.identifying_viewed", actor=user, target_type=record.__record_type__,
                 target_id=record.uuid, purpose=purpose)
    return result


def find_by_identifying(model: type, field: str, value: str, user, *,
                        record_type: str | None = None) -> list:
    """Exact-match lookup of a sealed value through its blind index (permission, audited).

    ``model`` is a record's model or one of its parts' (then name the ``record_type``).
    """
    if not user.can(VIEW_IDENTIFYING):
        deny(VIEW_IDENTIFYING)
    record_type = record_type or model.__record_type__
    digest = keystore.blind_index(f"{record_type}.{field}", value)
    index = getattr(model, f"{field}_index")
    found = db.session.scalars(select(model).where(index == digest)).all()
    audit.record("record.identifying_searched", actor=user, target_type=record_type,
                 found=len(found))
    return list(found)


def scrubbing(record) -> Callable[[str], str]:
    """A function that scrubs text of this record's identifying values (and of contacts and
    ID numbers) and coarsens its exact dates, ages and places, as exits do. Needs the
    unlocked node; nothing is shown, so nothing is audited."""
    secrets = record_secrets(record)
    scrubber = current_app.extensions["rabita.scrubber"]
    return lambda text: scrubber.scrub(text, secrets) if text else text


def record_secrets(record) -> Secrets:
    """What ``record``'s open texts kept in clear must not repeat: its identifying values and
    the exact values of its generalised fields, as for sharing (``core.redaction.secrets_of``)
    — decrypting its sealed values (no permission check: nothing is shown)."""
    return secrets_of(values(record, identifying=True), schema_of(type_of(record)), gazetteer(),
                      prepared=_prepared(record))


def _prepared(record) -> dict:
    """The record's secrets prepared for scrubbing, kept on the loaded record for as long as
    it is (a request, a save) and keyed by the values they are made of: its audiences and
    its save share them, and a changed value makes new ones (``core.redaction.redact``)."""
    return record.__dict__.setdefault(PREPARED, {})


def texts_for(record, user) -> Callable[[Any, str], Any]:
    """How ``record``'s open texts are shown to ``user`` (None: anyone, as in lists), as
    ``shown(row, attribute)``: as written to those who may see identifying data while the
    node is unlocked; to everyone else their scrubbed form, kept in clear (so shown even
    while the node is locked). A text not sealed yet (written before texts were sealed:
    ``rabita records seal-texts``) is scrubbed as it is read, or hidden while locked."""
    unlocked = keystore.keystore().unlocked
    if unlocked and user is not None and user.can(VIEW_IDENTIFYING):
        return lambda row, attribute: original_text(record, row, attribute)
    scrub: list = []

    def shown(row, attribute: str):
        text = getattr(row, attribute)
        if _is_sealed_text(row, attribute) and not _unsealed(row, attribute):
            return text  # its scrubbed form
        if not unlocked:
            return gettext("[hidden while the node is locked]")
        if not scrub:
            scrub.append(scrubbing(record))
        return scrub[0](text)

    return shown


def _is_sealed_text(row, attribute: str) -> bool:
    return attribute + ORIGINAL in row.__table__.columns


def redaction(record, audience: str) -> Redaction:
    """What of ``record`` may leave for ``audience`` now (needs the unlocked node)."""
    record_type = type_of(record)
    written = values(record, identifying=True)
    if record_type.changes:
        written = _without_empty(written, record_type.added_since(1))
    return redact(written, schema_of(record_type), audience,
                  policy_for(record, audience), prepared=_prepared(record))


def _without_empty(written: dict, paths: tuple[str, ...]) -> dict:
    """``written`` without the fields at ``paths`` (added by a later version) that are empty:
    a record the change does not touch leaves exactly as it did before the change."""
    for path in paths:
        _drop_empty(written, path.split("."))
    return written


def _drop_empty(item, names: list[str]) -> None:
    if isinstance(item, list):
        for element in item:
            _drop_empty(element, names)
        return
    if not isinstance(item, dict) or names[0] not in item:
        return
    if len(names) > 1:
        _drop_empty(item[names[0]], names[1:])
    elif item[names[0]] in (None, "", [], {}):
        del item[names[0]]


# -- record types that change ----------------------------------------------------------------


def stored_version(record_type: RecordType) -> int:
    """The version the stored records of ``record_type`` were last upgraded to (1: never)."""
    state = db.session.get(RecordTypeState, record_type.name)
    return 1 if state is None else state.version


def upgrade(*, batch: int = 200) -> dict[str, tuple[int, int]]:
    """Bring every record type's stored records up to its version (``rabita records upgrade``,
    after the migrations; needs the unlocked node). Each pending version's ``upgrade`` runs
    once per record; a record it changed is saved as a new version that no known person
    wrote (so a documenter checks it before a reviewer can approve it), and every approval
    whose payload is no longer the same is revoked (``type-changed``) and waits for review —
    the others keep their approval. Returns, per record type upgraded, (records changed,
    approvals revoked). Commits batch by batch; running it again does nothing."""
    done = {}
    for record_type in record_types():
        start = stored_version(record_type)
        if start >= record_type.version:
            continue
        pending = [c for c in record_type.changes if c.version > start]
        done[record_type.name] = _upgrade_records(record_type, pending, batch)
        state = db.session.get(RecordTypeState, record_type.name) or RecordTypeState(
            record_type=record_type.name)
        state.version, state.upgraded_at = record_type.version, clock.now()
        db.session.add(state)
        audit.record("records.type_upgraded", target_type=record_type.name,
                     version=record_type.version, changed=done[record_type.name][0],
                     revoked=done[record_type.name][1])
        db.session.commit()
    return done


def _upgrade_records(record_type: RecordType, pending: list[Change],
                     batch: int) -> tuple[int, int]:
    model = record_type.model
    if model is None:
        return 0, 0
    changed, revoked = [], 0
    ids = db.session.scalars(select(model.id).order_by(model.id)).all()
    for start in range(0, len(ids), batch):
        saved, chunk = [], ids[start:start + batch]
        for record in db.session.scalars(select(model).where(model.id.in_(chunk))):
            touched = [c.upgrade(record) for c in pending if c.upgrade is not None]
            if any(touched):
                saved.append(record)
                record.version += 1
                seal_texts(record)
                record.updated_at = clock.now()
                db.session.add(_writer_of(record, None))
                db.session.flush()
            revoked += len(approvals.revoke_if_changed(
                record, lambda audience, r=record: redaction(r, audience).payload_hash,
                because="type-changed"))
        db.session.commit()
        for record in saved:
            announce_saved(record, None)
        changed += saved
    return len(changed), revoked


def seal_payload(record, audience: str, payload: Mapping) -> bytes:
    """An approved payload sealed under the record's data key, bound to the record and the
    audience (kept on the approval for the comparison a later review shows)."""
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    return keystore.seal(_data_key(record), _payload_context(record, audience), text)


def approved_payload(record, approval) -> dict | None:
    """The payload ``approval`` approved, or None (approved before payloads were kept, or
    its consent ended)."""
    if approval is None or approval.payload is None:
        return None
    return json.loads(keystore.open_sealed(_data_key(record),
                                           _payload_context(record, approval.audience),
                                           approval.payload))


def _payload_context(record, audience: str) -> bytes:
    return "\x00".join((record.__record_type__, record.uuid, "core_approval", audience,
                        "payload")).encode()


def policy_for(record, audience: str) -> Policy:
    hook = plugin_manager().hook
    withheld = frozenset(
        path for paths in hook.redacted_fields(record=record, audience=audience) for path in paths
    )
    blockers = tuple(
        reason for reasons in hook.share_blockers(record=record, audience=audience)
        for reason in reasons
    )
    return Policy(current_app.extensions["rabita.scrubber"], gazetteer(), withheld, blockers)


def rewrap_all() -> int:
    """Re-wrap every record's data key with the current node key (key rotation)."""
    count = 0
    for record_type in record_types():
        model = record_type.model
        if model is None:
            continue
        for record in db.session.scalars(select(model)).yield_per(500):
            if keystore.wrapped_by_current(record.data_key):
                continue
            data_key = keystore.unwrap_data_key(record.data_key, model.__record_type__, record.uuid)
            new = keystore.wrap_data_key(data_key, model.__record_type__, record.uuid)
            # A plain UPDATE: re-wrapping is not a new version of the record.
            db.session.execute(
                model.__table__.update().where(model.__table__.c.id == record.id)
                .values(data_key=new)
            )
            count += 1
    return count


def seal_all_texts(*, batch: int = 200) -> int:
    """Seal every open text written before texts were sealed (``rabita records seal-texts``,
    after the migration that added the sealed columns): not a new version of any record.
    Return how many texts were sealed. Commits batch by batch."""
    return _each_record(seal_texts, batch)


def unseal_all_texts(*, batch: int = 200) -> int:
    """Put every open text back in its column as written and drop its sealed copy (``rabita
    records unseal-texts``): only before downgrading below the migration that sealed them."""
    return _each_record(_unseal_texts, batch)


def _unseal_texts(record) -> int:
    unsealed = 0
    for row, attribute in _text_rows(record):
        if getattr(row, attribute + ORIGINAL) is None:
            continue
        original = original_text(record, row, attribute)
        setattr(row, attribute + ORIGINAL, None)
        row.__dict__[WRITING] = True
        try:
            setattr(row, attribute, original)
        finally:
            row.__dict__.pop(WRITING, None)
        unsealed += 1
    return unsealed


def _each_record(change: Callable[[Any], int], batch: int) -> int:
    count = 0
    for record_type in record_types():
        model = record_type.model
        if model is None or record_type.schema is None:
            continue
        ids = db.session.scalars(select(model.id).order_by(model.id)).all()
        for start in range(0, len(ids), batch):
            chunk = ids[start:start + batch]
            for record in db.session.scalars(select(model).where(model.id.in_(chunk))):
                count += change(record)
            db.session.commit()
    return count


# -- helpers -------------------------------------------------------------------------------


def _values(record, row, schema: Schema, identifying: bool) -> dict:
    out = {}
    for name, schema_field in schema.fields.items():
        attribute = schema_field.attribute or name
        if sharing_of(schema_field) == NEVER:
            if not identifying:
                continue
            if _is_sealed(row, attribute):
                out[name] = identifying_value(record, row, attribute)
                continue
        elif identifying and attribute in _sealed_texts(type(schema)):
            out[name] = original_text(record, row, attribute)
            continue
        nested = _nested_schema(schema_field)
        if nested is None:
            out[name] = _serialised(schema_field, name, row)
            continue
        related = getattr(row, attribute)
        if related is None:
            out[name] = None
        elif isinstance(related, list | tuple | set):
            out[name] = [_values(record, part, nested, identifying) for part in related]
        else:
            out[name] = _values(record, related, nested, identifying)
    return out


def _serialised(schema_field, name: str, row):
    """What marshmallow's serialize gives, without its overhead for the plain types."""
    value = getattr(row, schema_field.attribute or name, None)
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return schema_field.serialize(name, row)


def _is_sealed(row, attribute: str) -> bool:
    column = row.__table__.columns.get(attribute)
    return column is not None and column.info.get(SEALED, False)


def schema_of(record_type: RecordType) -> Schema:
    return _schema_instance(record_type.schema)


@lru_cache(maxsize=64)
def _schema_instance(schema_class: type[Schema]) -> Schema:
    return schema_class()


def _data_key(record) -> bytes:
    cached = record.__dict__.get("_rabita_data_key")
    if cached is None:
        cached = keystore.unwrap_data_key(record.data_key, record.__record_type__, record.uuid)
        record.__dict__["_rabita_data_key"] = cached
    return cached


def _context(record, row, field: str) -> bytes:
    """Binds a ciphertext to its record, row and field: moved anywhere else, it fails."""
    parts = (record.__record_type__, record.uuid, row.__tablename__, row.uuid, field)
    return "\x00".join(parts).encode()
