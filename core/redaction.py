"""Redaction: the one pure function that decides what of a record may leave the node.

    redact(values, schema, audience, policy) → Redaction(payload, withheld, policy_hash, blockers)

and what a file exported inside the node may hold (``for_export``, used by core/exports.py).

Every schema field declares its sharing class in its metadata:

- ``open``: may leave with consent; every string in it is scrubbed first;
- ``generalise``: leaves only coarsened, by the named rule (``core.generalise``);
- ``never``: identifying; never leaves. A field that declares nothing is ``never``.

``policy`` carries what plugins' policy hooks said, which can only tighten: withheld fields
are unioned, and any blocker blocks the whole record. Nothing here reads a database,
the clock or the network: the same inputs give the same payload, byte for byte.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import rfc8785
from marshmallow import Schema, fields

from core.generalise import RULES, as_date
from core.places import COUNTRY, GOVERNORATE, Gazetteer, Place
from core.scrub import QuotedDate, Scrubber, Secrets

OPEN, GENERALISE, NEVER = "open", "generalise", "never"
CLASSES = (OPEN, GENERALISE, NEVER)
AUDIENCES = ("peers", "hub", "public-aggregate")
# Files exported inside the node (core/exports.py). ``internal``: what any member allowed to
# export may take away: no `never` field, generalised fields coarsened, free text scrubbed,
# open fields kept whichever share audiences they name. ``internal-identifying``: everything
# as written, for people allowed to see identifying values (checked and audited by the caller).
INTERNAL, INTERNAL_IDENTIFYING = "internal", "internal-identifying"
EXPORT_AUDIENCES = (INTERNAL, INTERNAL_IDENTIFYING)

# How a `never` value is looked for in open text: word by word (names, addresses, contacts:
# the default), or only as a whole (free-text notes, whose ordinary words identify no one).
SCRUB_WORDS, SCRUB_VALUE = "words", "value"

# An open field whose values are codes (an id, a vocabulary code) rather than free text:
# values that look like codes are not scrubbed; anything else in it still is.
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}")

# Declaring a field's class, in a schema:  fields.String(metadata=OPEN_FIELD)
OPEN_FIELD = {"sharing": OPEN}
OPEN_CODE_FIELD = {"sharing": OPEN, "code": True}
NEVER_FIELD = {"sharing": NEVER}
NEVER_TEXT_FIELD = {"sharing": NEVER, "scrub": SCRUB_VALUE}


def generalised(rule: str) -> dict:
    """Metadata for a field that leaves only coarsened by ``rule``."""
    if rule not in RULES:
        raise ValueError(f"No generalisation rule is named {rule!r}; see core/generalise.py.")
    return {"sharing": GENERALISE, "rule": rule}


class UnknownAudience(ValueError):
    def __init__(self, audience: str):
        super().__init__(f"Unknown audience {audience!r}; use one of: {', '.join(AUDIENCES)}.")


@dataclass(frozen=True)
class Policy:
    """What the node and its plugins add to the schema for one record and audience."""

    scrubber: Scrubber
    places: Gazetteer
    withheld: frozenset[str] = frozenset()  # dotted field paths, from `redacted_fields`
    blockers: tuple[str, ...] = ()  # reasons, from `share_blockers`


@dataclass(frozen=True)
class Redaction:
    audience: str
    payload: dict  # what may leave; empty when blocked
    withheld: tuple[str, ...]  # dotted paths of fields that were not sent
    policy_hash: str
    blockers: tuple[str, ...] = ()

    @property
    def blocked(self) -> bool:
        return bool(self.blockers)

    @property
    def payload_hash(self) -> str:
        return payload_hash(self.payload)


def payload_hash(payload: Mapping) -> str:
    """SHA-256 of the RFC 8785 (JCS) form: the hash federation entries carry too."""
    return hashlib.sha256(rfc8785.dumps(payload)).hexdigest()


def sharing_of(schema_field: fields.Field) -> str:
    declared = schema_field.metadata.get("sharing", NEVER)
    return declared if declared in CLASSES else NEVER


def audiences_of(schema_field: fields.Field) -> tuple[str, ...]:
    return tuple(schema_field.metadata.get("audiences", AUDIENCES))


def redact(values: Mapping[str, Any], schema: Schema, audience: str, policy: Policy, *,
           prepared: dict | None = None) -> Redaction:
    """Return what of ``values`` (a record, serialised) may leave for ``audience``.

    ``prepared``: a dict kept beside one record by the caller (``core.records`` keeps it on
    the loaded record), where the record's secrets are kept under the very values they are
    made of: redacting it for another audience, or scrubbing its texts at a save, reuses
    them while those values are the same, and never once one of them has changed."""
    if audience not in AUDIENCES:
        raise UnknownAudience(audience)
    return _redaction(values, schema, audience, policy, prepared)


def for_export(values: Mapping[str, Any], schema: Schema, audience: str,
               policy: Policy) -> Redaction:
    """Return what of ``values`` (a record, serialised with its identifying fields) a file
    exported inside the node may hold for ``audience``, one of ``EXPORT_AUDIENCES``."""
    if audience not in EXPORT_AUDIENCES:
        raise UnknownAudience(audience)
    if audience == INTERNAL_IDENTIFYING:
        return Redaction(audience, copy.deepcopy(dict(values)), (),
                         policy_hash(schema, audience, policy))
    return _redaction(values, schema, audience, policy)


def exported_fields(schema: Schema, audience: str) -> list[tuple[str, fields.Field]]:
    """The fields (dotted paths, in schema order, nested objects' fields after their own
    path) whose values a file exported for ``audience`` may hold."""
    if audience not in EXPORT_AUDIENCES:
        raise UnknownAudience(audience)
    return _exported_fields(schema, audience, "")


def _exported_fields(schema: Schema, audience: str, prefix: str) -> list:
    found = []
    for name, schema_field in schema.fields.items():
        if audience != INTERNAL_IDENTIFYING and sharing_of(schema_field) == NEVER:
            continue
        found.append((f"{prefix}{name}", schema_field))
        nested = _nested_schema(schema_field)
        if nested is not None:
            found += _exported_fields(nested, audience, f"{prefix}{name}.")
    return found


def _redaction(values, schema: Schema, audience: str, policy: Policy,
               prepared: dict | None = None) -> Redaction:
    blockers = tuple(sorted(set(policy.blockers)))
    withheld: list[str] = []
    payload: dict = {}
    if not blockers:
        # One walk: what may leave, where its free text stands, and the `never` values
        # that free text must not repeat.
        texts: list = []
        found = _Found()
        payload = _redact_object(values, _steps(type(schema), audience, policy.withheld),
                                 policy.places, withheld, texts, found)
        if texts:  # none for public statistics: no secrets to prepare
            _scrub_texts(texts, policy.scrubber, found.secrets(prepared))
    return Redaction(
        audience=audience,
        payload=payload,
        withheld=tuple(sorted(set(withheld))),
        policy_hash=policy_hash(schema, audience, policy),
        blockers=blockers,
    )


def policy_hash(schema: Schema, audience: str, policy: Policy) -> str:
    """Names the rules that produced a payload: schema classes, plugin tightening, scrubber."""
    return _policy_hash(type(schema), audience, policy.withheld, policy.scrubber)


@lru_cache(maxsize=1024)
def _policy_hash(schema_class: type, audience: str, withheld: frozenset, scrubber: Scrubber) -> str:
    description = {
        "audience": audience,
        "schema": _describe(schema_class),
        "withheld": sorted(withheld),
        "scrubber": scrubber.fingerprint(),
    }
    return hashlib.sha256(rfc8785.dumps(description)).hexdigest()


# -- walking a schema ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    """What redaction needs to know of one schema field, worked out once per schema."""

    name: str
    sharing: str
    rule: str | None
    audiences: frozenset[str]
    scrub: str
    code: bool
    nested: tuple[_Field, ...] | None


@lru_cache(maxsize=256)
def _plan(schema_class: type) -> tuple[_Field, ...]:
    plan = []
    for name, schema_field in _instance(schema_class).fields.items():
        nested = _nested_schema(schema_field)
        plan.append(_Field(
            name=name, sharing=sharing_of(schema_field),
            rule=schema_field.metadata.get("rule"),
            audiences=frozenset(audiences_of(schema_field)),
            scrub=schema_field.metadata.get("scrub", SCRUB_WORDS),
            code=bool(schema_field.metadata.get("code")),
            nested=_plan(type(nested)) if nested is not None else None,
        ))
    return tuple(plan)


@lru_cache(maxsize=256)
def _instance(schema_class: type) -> Schema:
    return schema_class()


# What the walk does with a field, for one audience and policy: worked out once.
_NEVER, _WITHHOLD, _NESTED, _COARSEN, _COPY, _COPY_CODE, _CODES_ONLY = range(7)
PUBLIC = "public-aggregate"  # counts only: no free text at all, scrubbed or not
# Secrets kept in one ``prepared`` dict: a record's audiences share one or two (a withheld
# part quotes no date); more means its values keep changing, and the oldest go.
PREPARED_SECRETS = 4


@dataclass(frozen=True)
class _Step:
    name: str
    path: str
    action: int
    field: _Field
    nested: tuple[_Step, ...] | None  # the nested object's steps, when it leaves


@lru_cache(maxsize=1024)
def _steps(schema_class: type, audience: str, withheld: frozenset[str]) -> tuple[_Step, ...]:
    return _steps_of(_plan(schema_class), audience, withheld, "")


def _steps_of(plan, audience: str, withheld: frozenset[str], prefix: str) -> tuple[_Step, ...]:
    steps = []
    for field in plan:
        path = f"{prefix}{field.name}"
        if field.sharing == NEVER:
            action = _NEVER
        elif (audience in AUDIENCES and audience not in field.audiences) or path in withheld:
            action = _WITHHOLD
        elif field.nested is not None:
            action = _NESTED
        elif field.sharing == GENERALISE:
            action = _COARSEN
        else:
            action = _COPY_CODE if field.code else _COPY
        if audience == PUBLIC and action in (_COPY, _COPY_CODE):
            action = _CODES_ONLY if field.code else _WITHHOLD
        nested = (_steps_of(field.nested, audience, withheld, f"{path}.")
                  if action == _NESTED else None)
        steps.append(_Step(field.name, path, action, field, nested))
    return tuple(steps)


def _redact_object(values, steps, places, withheld, texts, found) -> dict:
    """The fields that may leave. ``texts`` collects where free text stands, to scrub;
    ``found`` every string of a `never` field, withheld ones included, to scrub it out."""
    out = {}
    for step in steps:
        if step.name not in values:
            continue
        value = values[step.name]
        action = step.action
        if action == _COPY:
            out[step.name] = value
            if isinstance(value, str):
                texts.append((out, step.name))
            elif isinstance(value, list | dict):
                _note_texts(out, step.name, False, texts)
        elif action == _NEVER:
            withheld.append(step.path)
            if value is not None:
                found.extend((text, step.field.scrub) for text in _strings_in(value))
        elif action == _NESTED:
            out[step.name] = _redact_nested(value, step, places, withheld, texts, found)
        elif action == _COARSEN:
            # A rule's output is a coarse code (a month, a band, a governorate): no free text.
            coarse = None if value is None else RULES[step.field.rule](value, places)
            found.quote(step.field.rule, value, coarse, places)
            if value is not None and coarse is None:
                withheld.append(step.path)  # could not be coarsened safely: not sent at all
            else:
                out[step.name] = coarse
        elif action == _COPY_CODE:
            out[step.name] = value
            _note_texts(out, step.name, True, texts)
        elif action == _CODES_ONLY:
            codes = _codes_in(value)
            if codes is None:
                withheld.append(step.path)
            else:
                out[step.name] = codes
        else:  # _WITHHOLD
            withheld.append(step.path)
            if step.field.sharing == GENERALISE:
                found.quote(step.field.rule, value, None, places)
            if step.field.nested is not None and value is not None:
                for item in value if isinstance(value, list) else [value]:
                    _never_strings(item, step.field.nested, found)
    return out


class _Found(list):
    """What the record's open texts must not repeat: the strings of its `never` fields with
    how to look for them (the list), and the exact values of its `generalise` fields."""

    def __init__(self):
        super().__init__()
        self.dates: list[QuotedDate] = []
        self.ages: list[int] = []
        self.places: list[tuple[str, ...]] = []  # each exact place's names

    def quote(self, rule: str, value, coarse, places) -> None:
        """Note an exact value that ``rule`` coarsened to ``coarse`` (None: withheld)."""
        if value is None or value == coarse:
            return
        if rule in ("date_to_month", "date_to_year"):
            parsed = as_date(value)
            if parsed is not None:
                self.dates.append(QuotedDate(parsed, "month" if rule == "date_to_month"
                                             else "year"))
        elif rule == "age_to_band" and isinstance(value, int) and not isinstance(value, bool):
            self.ages.append(value)
        elif rule in ("place_to_governorate", "place_to_country") and isinstance(value, str):
            place = places.get(value)
            if place is None:
                self.append(value)  # no known place: the record's own words, as they are
            elif names := _place_names(value, place):
                self.places.append(names)

    def secrets(self, prepared: dict | None = None) -> Secrets:
        """The Secrets these make, taken from ``prepared`` (see ``redact``) when made of the
        same values before."""
        if prepared is None:
            return Secrets(self, dates=self.dates, ages=self.ages, places=self.places)
        made_of = (tuple(self), tuple(self.dates), tuple(self.ages), tuple(self.places))
        if made_of not in prepared:
            if len(prepared) >= PREPARED_SECRETS:
                prepared.clear()
            prepared[made_of] = Secrets(self, dates=self.dates, ages=self.ages,
                                        places=self.places)
        return prepared[made_of]


def _place_names(code: str, place: Place) -> tuple[str, ...]:
    """What a text may call an exact place: its names in every language, its aliases and
    old spellings, and the words of its code (``TN-61:sakiet-ezzit``)."""
    if place.kind in (COUNTRY, GOVERNORATE) and ":" not in code:
        return ()  # as coarse as a rule makes it (a governorate kept by place_to_governorate)
    return (*place.all_names(), code.partition(":")[2].replace("-", " "))


def _codes_in(value):
    """Only what looks like a code: a code field's free text is not for public statistics."""
    if isinstance(value, str):
        return value if CODE.fullmatch(value) else None
    if isinstance(value, list):
        return [item for item in value if not isinstance(item, str) or CODE.fullmatch(item)]
    return None if isinstance(value, dict) else value


def _note_texts(container, key, code: bool, texts: list) -> None:
    value = container[key]
    if isinstance(value, str):
        if not (code and CODE.fullmatch(value)):
            texts.append((container, key))
    elif isinstance(value, list):
        for index in range(len(value)):
            _note_texts(value, index, code, texts)
    elif isinstance(value, dict):
        for item in value:
            _note_texts(value, item, code, texts)


def _redact_nested(value, step: _Step, places, withheld, texts, found):
    if value is None:
        return None
    if isinstance(value, list):
        return [_redact_object(item, step.nested, places, withheld, texts, found)
                for item in value]
    return _redact_object(value, step.nested, places, withheld, texts, found)


def _scrub_texts(texts: list, scrubber: Scrubber, secrets: Secrets) -> None:
    """Scrub every free text of the payload in place — all of them in one pass."""
    scrubbed = scrubber.scrub_many([container[key] for container, key in texts], secrets)
    for (container, key), text in zip(texts, scrubbed, strict=True):
        container[key] = text


def secrets_of(values: Mapping[str, Any], schema: Schema, places: Gazetteer, *,
               prepared: dict | None = None) -> Secrets:
    """What the record's open texts must not repeat, whatever the audience: every string of
    its `never` fields and the exact value of its `generalise` fields (a text kept inside
    the node — the clear form of an open text at rest — is coarsened as a payload is).
    ``prepared``: as for ``redact``."""
    found = _Found()
    _never_strings(values, _plan(type(schema)), found, places)
    return found.secrets(prepared)


def never_strings(values, schema) -> list[tuple[str, str]]:
    """Every string held by a `never` field, anywhere in the record, with how to look for it
    (``SCRUB_WORDS`` or ``SCRUB_VALUE``), to scrub it from open text."""
    found: list[tuple[str, str]] = []
    _never_strings(values, _plan(type(schema)), found)
    return found


def _never_strings(values, plan, found: list, places: Gazetteer | None = None) -> None:
    """Add the strings of `never` fields to ``found``; given ``places``, also quote the exact
    values of `generalise` fields (``found`` is then a _Found)."""
    for field in plan:
        value = values.get(field.name)
        if value is None:
            continue
        if field.sharing == NEVER:
            found.extend((text, field.scrub) for text in _strings_in(value))
        elif field.nested is not None:
            for item in value if isinstance(value, list) else [value]:
                _never_strings(item, field.nested, found, places)
        elif field.sharing == GENERALISE and places is not None:
            found.quote(field.rule, value, RULES[field.rule](value, places), places)


def _strings_in(value) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings_in(item)


def _nested_schema(schema_field: fields.Field) -> Schema | None:
    if isinstance(schema_field, fields.List):
        schema_field = schema_field.inner
    if isinstance(schema_field, fields.Nested):
        return schema_field.schema
    return None


@lru_cache(maxsize=256)
def _describe(schema_class: type) -> dict:
    schema = schema_class()
    described = {}
    for name, schema_field in schema.fields.items():
        nested = _nested_schema(schema_field)
        described[name] = {
            "sharing": sharing_of(schema_field),
            "rule": schema_field.metadata.get("rule"),
            "audiences": list(audiences_of(schema_field)),
            "nested": _describe(type(nested)) if nested is not None else None,
        }
    return described


def undeclared_fields(schema: Schema, prefix: str = "") -> list[str]:
    """Fields whose sharing class is not declared explicitly (the meta-test uses this)."""
    missing = []
    for name, schema_field in schema.fields.items():
        path = f"{prefix}{name}"
        if schema_field.metadata.get("sharing") not in CLASSES:
            missing.append(path)
        elif schema_field.metadata.get("sharing") == GENERALISE and (
            schema_field.metadata.get("rule") not in RULES
        ):
            missing.append(f"{path} (unknown rule)")
        nested = _nested_schema(schema_field)
        if nested is not None:
            missing += undeclared_fields(nested, f"{path}.")
    return missing

