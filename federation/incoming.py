"""Requests other nodes make to this one: bounded, verified, and answered with a signature.

Every federation-signed view goes through ``receive()``, which checks, cheapest first: the
body's size (before reading it), the signature profile and its times, the key and the
signature, the body against its Content-Digest (before parsing), the nonce (never seen), and
that the sender is an approved peer. A refusal is answered with its reason code, and the
transaction is rolled back: a refused request writes nothing. The nonce is stored in the
same transaction as what the request does, so an accepted request commits both.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from flask import Response, request
from http_message_signatures import ContentDigest, HTTPMessageSignaturesException
from http_message_signatures import InvalidSignature as Invalid
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from core import clock
from core.extensions import db
from federation import identity, keys, peers, protocol, signing, transport
from federation.models import Key, Nonce, Peer
from federation.reasons import Refused

NO_BODY = 0


@dataclass
class Incoming:
    """A verified request: its sender (an approved peer, unless pairing) and its body."""

    peer: Peer | None
    body: bytes
    message: transport.Request
    verified: transport.Verified


def receive(max_body: int, *, pairing: bool = False) -> Incoming:
    """Verify the current request; raise ``Refused`` (nothing written) if it fails."""
    body = read_body(max_body)
    message = transport.Request(request.method, target_uri(),
                                transport.Headers(request.headers.items()))
    if pairing:
        return _pairing_request(message, body)
    resolve = keys.resolver_with_chain(None, message.headers.get(keys.KEYS_HEADER))
    verified = transport.verify_message(message, body, resolve_key=resolve, now=clock.now())
    peer = db.session.scalar(select(Peer).join(
        Key, Key.origin == Peer.node_id).where(Key.key_id == verified.key_id))
    if peer is None:
        origins = {origin for origin, _chain in resolve.learned}
        peer = db.session.scalar(select(Peer).where(Peer.node_id.in_(origins)))
    _use_nonce(verified)
    if peer is None or not peer.approved:
        raise Refused("peer-not-approved")
    keys.remember_chain(resolve)
    forget_expired_nonces()  # an accepted request may write; a refused one writes nothing
    return Incoming(peer, body, message, verified)


def _pairing_request(message: transport.Request, body: bytes) -> Incoming:
    """A pairing request comes from a node not known yet: its own signed document, in the
    body, names the key that must have signed the request."""
    digest = message.headers.get("Content-Digest")
    if message.headers.get("Signature") is None:
        raise Refused("unsigned")
    if digest is None:
        raise Refused("digest-missing")
    _check_digest(digest, body)
    document = protocol.strict_loads(body)
    if not isinstance(document, dict) or set(document) != {"type", "document", "to"} or \
            document["type"] != protocol.PAIR_TYPE:
        raise Refused("bad-request")
    if document["to"] != signing.identity().node_id:
        raise Refused("bad-request", "the request is for another node")
    node = identity.read_node_document(document["document"])

    def resolve(key_id: str) -> bytes | None:
        key = node.key(key_id)
        # Only a key still in use signs: neither revoked nor superseded by a newer one.
        usable = key is not None and key.revoked_at is None and key.superseded_at is None
        return key.public_key if usable else None

    verified = transport.verify_message(message, body, resolve_key=resolve, now=clock.now())
    _use_nonce(verified)
    peer = peers.receive_request(node, client=request.remote_addr)
    return Incoming(peer, body, message, verified)


def _check_digest(digest: str, body: bytes) -> None:
    try:
        ContentDigest.verify(digest, body)
    except (Invalid, HTTPMessageSignaturesException):
        raise Refused("digest-mismatch") from None


def read_body(max_body: int) -> bytes:
    """The raw body, refused before reading when it is (or says it is) too large."""
    length = request.headers.get("Content-Length")
    chunked = "chunked" in (request.headers.get("Transfer-Encoding") or "").lower()
    if length is None:
        if chunked:
            raise Refused("length-required")
        return b""
    if not length.isdigit():
        raise Refused("bad-request")
    if int(length) > max_body:
        raise Refused("too-large")
    body = request.stream.read(int(length))
    if len(body) != int(length):
        raise Refused("bad-request", "the body is shorter than its length")
    return body


def target_uri() -> str:
    """The request's target as the sender signed it: the raw, still-encoded path and query
    (Werkzeug's ``request.url`` is decoded, which would not verify)."""
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw and raw.startswith(("http://", "https://")):
        raw = "/" + raw.split("/", 3)[3] if raw.count("/") >= 3 else "/"
    if not raw:
        raw = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
        if environ.get("QUERY_STRING"):
            raw += "?" + environ["QUERY_STRING"]
    return f"{request.scheme}://{request.host}{raw}"


def _use_nonce(verified: transport.Verified) -> None:
    """Refuse a nonce seen before; keep this one (in the request's transaction)."""
    if db.session.get(Nonce, verified.nonce) is not None:
        raise Refused("replayed")
    db.session.add(Nonce(nonce=verified.nonce,
                         expires_at=max(verified.expires_at, clock.now())))
    try:
        db.session.flush()
    except IntegrityError:  # the same nonce, at the same moment, in another request
        db.session.rollback()
        raise Refused("replayed") from None


def forget_expired_nonces() -> int:
    """Nonces are kept until their signature expires (plus the clock skew), no longer."""
    horizon = clock.now() - timedelta(seconds=transport.CLOCK_SKEW)
    return db.session.execute(delete(Nonce).where(Nonce.expires_at < horizon)).rowcount


# -- answers ----------------------------------------------------------------------------------


def answer(status: int, document: dict, message: transport.Request | None) -> Response:
    """A JSON answer, signed over the request's own signature when the request has one."""
    body = protocol.dumps(document)
    headers = transport.Headers([("Content-Type", "application/json")])
    chain = keys.keys_header()
    if chain:
        headers["Rabita-Keys"] = chain
    if message is not None and message.headers.get("Signature") is not None:
        # A malformed request signature cannot be covered: then the answer goes unsigned.
        with suppress(HTTPMessageSignaturesException):
            transport.sign(transport.Response(status, headers, message), body,
                           key_id=signing.identity().current, sign_bytes=signing.sign,
                           now=clock.now())
    return Response(body, status=status, headers=headers.lines)


def refusal(refused: Refused, message: transport.Request | None) -> Response:
    db.session.rollback()
    return answer(refused.status, refused.as_json(), message)
