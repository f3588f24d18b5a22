"""Who a node is: fingerprints of public keys, key chains, and the signed node document
served at ``/.well-known/rabita``.

Only public keys are handled here (``federation.signing`` holds the private ones, and signs
the document; ``federation.signatures`` checks signatures). A node id is the key id
(``protocol.key_id_of``) of the node's first key; a fingerprint is the same key shown as
eight groups of five digits, which two administrators read to each other (or scan as a QR
code) to pair.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import segno
from flask import Flask, current_app
from markupsafe import Markup

from core import clock
from core.text import western_digits
from federation import protocol, signing
from federation.protocol import key_id_of
from federation.reasons import Refused
from federation.signatures import verify

FINGERPRINT_GROUPS = 8
FINGERPRINT_CONTEXT = b"rabita-fingerprint\x00"


def fingerprint(public_key: bytes) -> str:
    """Eight groups of five digits that name the key (like Signal's safety numbers)."""
    digest = hashlib.sha256(FINGERPRINT_CONTEXT + public_key).digest()
    groups = [int.from_bytes(digest[4 * i:4 * i + 4], "big") % 100000
              for i in range(FINGERPRINT_GROUPS)]
    return " ".join(f"{group:05d}" for group in groups)


def normalise_fingerprint(text: str) -> str:
    """What an administrator typed, as the canonical form: Arabic-Indic digits accepted,
    spaces and dashes ignored."""
    digits = "".join(c for c in western_digits(text or "") if c.isdigit())
    return " ".join(digits[i:i + 5] for i in range(0, len(digits), 5))


def qr_svg(text: str) -> Markup:
    """A QR code as inline SVG (no image request, nothing third-party)."""
    svg = segno.make(text, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")
    return Markup(svg)  # noqa: S704 - segno's own SVG output of our own text


# -- keys as others see them ---------------------------------------------------------------


@dataclass(frozen=True)
class KeyInfo:
    """A public key of some node, with the times between which it may sign."""

    key_id: str
    public_key: bytes
    valid_from: datetime
    superseded_at: datetime | None = None
    revoked_at: datetime | None = None

    def may_sign_at(self, moment: datetime) -> str | None:
        """None if this key may sign something made at ``moment``, else a reason code."""
        if self.revoked_at is not None and moment >= self.revoked_at:
            return "key-revoked"
        if self.superseded_at is not None and moment > self.superseded_at:
            return "key-superseded"
        if moment < self.valid_from:
            return "key-superseded"  # made before the key existed: another key's time
        return None

    def as_json(self) -> dict:
        return {
            "key_id": self.key_id, "public_key": protocol.b64(self.public_key),
            "valid_from": protocol.at_text(self.valid_from),
            "superseded_at": _at_or_none(self.superseded_at),
            "revoked_at": _at_or_none(self.revoked_at),
        }


def _at_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else protocol.at_text(moment)


def read_key_chain(node_id: str, keys: list, code: str = "bad-request") -> list[KeyInfo]:
    """Check a node's list of keys: the first is the node's own, and each later one is
    certified by the key before it. Return them as ``KeyInfo``."""
    if not isinstance(keys, list) or not keys or len(keys) > 64:
        raise Refused(code, "no keys")
    chain: list[KeyInfo] = []
    for position, key in enumerate(keys):
        if not isinstance(key, dict) or set(key) != {
            "key_id", "public_key", "valid_from", "superseded_at", "revoked_at", "certificate"
        }:
            raise Refused(code, "bad key")
        public = protocol.unb64(key["public_key"], 32, code=code)
        if key_id_of(public) != key["key_id"]:
            raise Refused(code, "key id does not match key")
        info = KeyInfo(
            key["key_id"], public, protocol.parse_at(key["valid_from"], code),
            None if key["superseded_at"] is None else protocol.parse_at(key["superseded_at"], code),
            None if key["revoked_at"] is None else protocol.parse_at(key["revoked_at"], code),
        )
        if position == 0:
            if info.key_id != node_id or key["certificate"] is not None:
                raise Refused(code, "the first key is not the node's own")
        else:
            _check_certificate(node_id, chain[-1], info, key["certificate"], code)
        chain.append(info)
    return chain


def _check_certificate(node_id: str, previous: KeyInfo, key: KeyInfo, certificate, code: str):
    raw, body, signature = protocol.open_envelope(certificate, protocol.KEY_TYPE, code=code)
    expected = {
        "type": protocol.KEY_TYPE, "node_id": node_id, "key_id": key.key_id,
        "public_key": protocol.b64(key.public_key), "valid_from": protocol.at_text(key.valid_from),
    }
    if body != expected or not verify(previous.public_key, raw, signature):
        raise Refused("signature-invalid", "a key certificate does not verify")


# -- the node document ---------------------------------------------------------------------


ENDPOINTS = {
    "outbox": "/federation/outbox",
    "inbox": "/federation/inbox",
    "receipts": "/federation/receipts",
    "pair": "/federation/pair",
    "keys": "/federation/keys",
    "push": "/federation/push",  # 1.1: a node nobody can reach sends its feed
}


@dataclass(frozen=True)
class NodeDocument:
    node_id: str
    name: str
    role: str
    url: str
    keys: tuple[KeyInfo, ...]
    current: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.keys[0].public_key)

    def key(self, key_id: str) -> KeyInfo | None:
        return next((k for k in self.keys if k.key_id == key_id), None)


def node_document(app: Flask | None = None) -> dict:
    """This node's signed document: id, public name, role, address, keys, endpoints."""
    app = app or current_app
    own = signing.identity(app)
    body = {
        "type": protocol.NODE_TYPE,
        "node_id": own.node_id,
        "name": app.config.get("FEDERATION_PUBLIC_NAME", ""),
        "role": app.config.get("FEDERATION_ROLE", "node"),
        "url": app.config.get("FEDERATION_URL", ""),
        "at": protocol.at_text(clock.now()),
        "key": own.current,
        "keys": [key.as_json() for key in own.keys],
        "endpoints": ENDPOINTS,
    }
    text = protocol.canonical(body)
    return protocol.envelope(text, signing.sign(text, app))


def read_node_document(value) -> NodeDocument:
    """Check a node document's form, key chain and signature; return what it says."""
    raw, body, signature = protocol.open_envelope(value, protocol.NODE_TYPE)
    fields = {"type", "node_id", "name", "role", "url", "at", "key", "keys", "endpoints"}
    if set(body) != fields or not isinstance(body["node_id"], str) or \
            not protocol.NODE_ID.match(body["node_id"]):
        raise Refused("bad-request", "not a node document")
    if body["role"] not in protocol.ROLES or not isinstance(body["name"], str) or \
            len(body["name"]) > 200 or not _is_url(body["url"]):
        raise Refused("bad-request", "bad node document fields")
    protocol.parse_at(body["at"], "bad-request")
    keys = read_key_chain(body["node_id"], body["keys"])
    signer = next((k for k in keys if k.key_id == body["key"]), None)
    if signer is None or signer.revoked_at is not None or \
            not verify(signer.public_key, raw, signature):
        raise Refused("signature-invalid", "the node document's signature does not verify")
    return NodeDocument(body["node_id"], body["name"], body["role"], body["url"].rstrip("/"),
                        tuple(keys), body["key"])


def _is_url(value) -> bool:
    """An http(s) address, or empty: a node behind NAT that others cannot reach."""
    return isinstance(value, str) and len(value) <= 300 and (
        value == "" or value.startswith("http://") or value.startswith("https://")
    )
