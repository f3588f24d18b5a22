"""Redaction: the one pure function that decides what of a record may leave the node.

    redact(values, schema, audience, policy) → Redaction(payload, withheld, policy_hash, blockers)

Every schema field declares its sharing class in its metadata:

- ``open``: may leave with consent; every string in it is scrubbed first;
- ``generalise``: leaves only coarsened, by the named rule (``core.generalise``);
- ``never``: identifying; never leaves. A field that declares nothing is ``never``.

``policy`` carries what plugins' policy hooks said, which can only tighten: withheld fields
are unioned, and any blocker blocks the whole record. Nothing here reads a database,
the clock or the network: the same inputs give the same payload, byte for byte.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import rfc8785
from marshmallow import Schema, fields

from core.generalise import RULES
from core.places import Gazetteer
from core.scrub import Scrubber, Secrets

OPEN, GENERALISE, NEVER = "open", "generalise", "never"
CLASSES = (OPEN, GENERALISE, NEVER)
AUDIENCES = ("peers", "hub", "public-aggregate")

# Declaring a field's class, in a schema:  fields.String(metadata=OPEN_FIELD)
OPEN_FIELD = {"sharing": OPEN}
NEVER_FIELD = {"sharing": NEVER}


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


def redact(values: Mapping[str, Any], schema: Schema, audience: str, policy: Policy) -> Redaction:
    """Return what of ``values`` (a record, serialised) may leave for ``audience``."""
    if audience not in AUDIENCES:
        raise UnknownAudience(audience)
    blockers = tuple(sorted(set(policy.blockers)))
    secrets = Secrets(_never_strings(values, schema))
    withheld: list[str] = []
    payload = {} if blockers else _redact_object(
        values, schema, audience, policy, secrets, "", withheld
    )
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


def _redact_object(values, schema, audience, policy, secrets, prefix, withheld) -> dict:
    out = {}
    for name, schema_field in schema.fields.items():
        path = f"{prefix}{name}"
        if name not in values:
            continue
        value = values[name]
        sharing = sharing_of(schema_field)
        if (
            sharing == NEVER
            or path in policy.withheld
            or audience not in audiences_of(schema_field)
        ):
            withheld.append(path)
            continue
        nested = _nested_schema(schema_field)
        if nested is not None:
            out[name] = _redact_nested(value, nested, audience, policy, secrets, path, withheld)
            continue
        if sharing == GENERALISE:
            value = RULES[schema_field.metadata["rule"]](value, policy.places)
            if value is None:
                withheld.append(path)
                continue
        out[name] = _scrub_value(value, policy.scrubber, secrets)
    return out


def _redact_nested(value, nested, audience, policy, secrets, path, withheld):
    if value is None:
        return None
    if isinstance(value, list):
        return [
            _redact_object(item, nested, audience, policy, secrets, f"{path}.", withheld)
            for item in value
        ]
    return _redact_object(value, nested, audience, policy, secrets, f"{path}.", withheld)


def _scrub_value(value, scrubber: Scrubber, secrets: Secrets):
    if isinstance(value, str):
        return scrubber.scrub(value, secrets)
    if isinstance(value, list):
        return [_scrub_value(item, scrubber, secrets) for item in value]
    if isinstance(value, dict):
        return {key: _scrub_value(item, scrubber, secrets) for key, item in value.items()}
    return value


def _never_strings(values, schema) -> Iterable[str]:
    """Every string held by a `never` field, anywhere in the record, to scrub elsewhere."""
    for name, schema_field in schema.fields.items():
        if name not in values or values[name] is None:
            continue
        nested = _nested_schema(schema_field)
        if sharing_of(schema_field) == NEVER:
            yield from _strings_in(values[name])
        elif nested is not None:
            items = values[name] if isinstance(values[name], list) else [values[name]]
            for item in items:
                yield from _never_strings(item, nested)


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

