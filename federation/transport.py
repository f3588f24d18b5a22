"""RFC 9421 message signatures and RFC 9530 digests: the signature profile of every request
and response between nodes.

Profile: label ``rabita``, ``alg="ed25519"``, a fixed ``tag``, ``keyid`` (a key id),
``created``, ``expires`` (at most 300 s later) and a random ``nonce``. A request covers
``@method``, ``@authority``, ``@target-uri`` and ``content-digest`` (also for an empty body);
a response covers ``@status``, ``content-digest`` and the request's ``@method``,
``@target-uri``, signature input and signature (``"signature";req;key="rabita"``), so it
answers that request and no other. Clocks may differ by 60 s. Checks run cheapest first and
the body is checked against its digest before anything parses it; nonce replay is checked
by the caller.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import http_sf
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureAlgorithm,
    InvalidSignature,
)

from federation import protocol
from federation.identity import verify
from federation.reasons import Refused

LABEL = "rabita"
TAG = "rabita-federation-v1"
ALGORITHM = "ed25519"
LIFETIME = timedelta(seconds=120)  # what this node puts in `expires`
MAX_LIFETIME = 300  # seconds: the longest `expires - created` accepted
CLOCK_SKEW = 60  # seconds either way
REQUEST_COMPONENTS = ("@method", "@authority", "@target-uri", "content-digest")
RESPONSE_COMPONENTS = ("@status", "content-digest", '"@method";req', '"@target-uri";req',
                       f'"signature-input";req;key="{LABEL}"', f'"signature";req;key="{LABEL}"')
PARAMETERS = {"created", "expires", "keyid", "alg", "nonce", "tag"}
_NOBODY = bytes(range(32))  # a public key nobody holds the private half of, for equal work


class Ed25519(HTTPSignatureAlgorithm):
    """Ed25519 through PyNaCl. Verification only: signing goes through ``federation.signing``
    (``HTTPMessageSigner.prepare``/``apply``), so no private key ever reaches this module."""

    algorithm_id = ALGORITHM

    def __init__(self, public_key=None, private_key=None):
        if private_key is not None:
            raise HTTPMessageSignaturesException("Signing is done by federation.signing.")
        self.public_key = public_key

    def sign(self, message: bytes):
        raise HTTPMessageSignaturesException("Signing is done by federation.signing.")

    def verify(self, signature: bytes, message: bytes):
        if not verify(self.public_key, message, signature):
            raise InvalidSignature("The signature does not verify.")


class _Verifier(HTTPMessageVerifier):
    """The library's verifier, with time checked beforehand against core's clock."""

    def validate_created_and_expires(self, sig_input, max_age=None):
        return None


class _Keys:
    def __init__(self, resolve: Callable[[str], bytes | None]):
        self.resolve = resolve

    def resolve_public_key(self, key_id: str):
        return self.resolve(key_id)

    def resolve_private_key(self, key_id: str):
        raise HTTPMessageSignaturesException("Signing is done by federation.signing.")


# -- messages, as the library sees them ---------------------------------------------------


class Headers:
    """Header field lines, in order, with the mapping operations the library needs."""

    def __init__(self, lines: Iterable[tuple[str, str]] = ()):
        self.lines = [(str(name), str(value)) for name, value in lines]

    def items(self):
        return list(self.lines)

    def __iter__(self):
        return iter(dict.fromkeys(name for name, _ in self.lines))

    def __contains__(self, name: str) -> bool:
        return any(field.lower() == name.lower() for field, _ in self.lines)

    def __setitem__(self, name: str, value: str) -> None:
        del self[name]
        self.lines.append((name, value))

    def __delitem__(self, name: str) -> None:
        self.lines = [(f, v) for f, v in self.lines if f.lower() != name.lower()]

    def get(self, name: str, default: str | None = None) -> str | None:
        values = [v for f, v in self.lines if f.lower() == name.lower()]
        return ", ".join(values) if values else default

    def as_dict(self) -> dict[str, str]:
        return {name: self.get(name) for name in self}


@dataclass
class Request:
    method: str
    url: str  # encoded, absolute: the target URI as sent
    headers: Headers


@dataclass
class Response:
    status_code: int
    headers: Headers
    request: Request


@dataclass(frozen=True)
class Verified:
    """What a verified signature says: who signed, its nonce and when it expires."""

    key_id: str
    nonce: str
    expires_at: datetime


# -- signing --------------------------------------------------------------------------------


def sign(message: Request | Response, body: bytes, *, key_id: str,
         sign_bytes: Callable[[bytes], bytes], now: datetime) -> None:
    """Add Content-Digest, Signature-Input and Signature to ``message`` (in place)."""
    components = REQUEST_COMPONENTS if isinstance(message, Request) else RESPONSE_COMPONENTS
    signer = HTTPMessageSigner(signature_algorithm=Ed25519)
    prepared = signer.prepare(
        message, key_id=key_id, created=now, expires=now + LIFETIME,
        nonce=secrets.token_urlsafe(18), label=LABEL, tag=TAG,
        covered_component_ids=[c for c in components if c != "content-digest"], body=body,
    )
    # The library's apply() builds the signature base again to check that nothing changed
    # while an outside signer worked; nothing can change here, so the headers are written
    # directly (it halves the cost of signing: RFC 9421 section 4).
    signature = sign_bytes(prepared.signature_base)
    message.headers["Signature-Input"] = f"{LABEL}={prepared.signature_params}"
    message.headers["Signature"] = f"{LABEL}=:{protocol.b64(signature)}:"


# -- verifying ------------------------------------------------------------------------------


def verify_message(message: Request | Response, body: bytes, *,
                   resolve_key: Callable[[str], bytes | None], now: datetime) -> Verified:
    """Check ``message``'s signature against the profile; raise ``Refused`` with the reason."""
    params = _profile(message.headers)
    created, expires = params["created"], params["expires"]
    moment = int(now.timestamp())
    if created > moment + CLOCK_SKEW:
        raise Refused("future-dated")
    if expires < moment - CLOCK_SKEW:
        raise Refused("expired")
    digest = message.headers.get("Content-Digest")
    if digest is None:
        raise Refused("digest-missing")
    key_id = params["keyid"]
    public_key = resolve_key(key_id) if protocol.NODE_ID.match(key_id) else None
    # Unknown and known keys get the same code, text and work (a check against a key that
    # matches nothing): nobody learns who is paired with this node.
    components = REQUEST_COMPONENTS if isinstance(message, Request) else RESPONSE_COMPONENTS
    verifier = _Verifier(signature_algorithm=Ed25519,
                         key_resolver=_Keys(lambda _: public_key or _NOBODY))
    try:
        verifier.verify(message, max_age=None, expect_tag=TAG, require_components=components)
    except (InvalidSignature, HTTPMessageSignaturesException):
        raise Refused("signature-invalid") from None
    if public_key is None:
        raise Refused("signature-invalid")
    try:
        ContentDigest.verify(digest, body)
    except (InvalidSignature, HTTPMessageSignaturesException):
        raise Refused("digest-mismatch") from None
    return Verified(key_id, params["nonce"], datetime.fromtimestamp(expires, now.tzinfo))


def _profile(headers: Headers) -> dict:
    """The one signature's parameters, if the message follows the profile."""
    signature_input = headers.get("Signature-Input")
    if signature_input is None or headers.get("Signature") is None:
        raise Refused("unsigned")
    try:
        parsed = http_sf.parse(signature_input.encode("ascii"), tltype="dictionary")
    except (ValueError, TypeError, UnicodeEncodeError):
        raise Refused("signature-malformed") from None
    if list(parsed) != [LABEL] or not isinstance(parsed[LABEL][0], list):
        raise Refused("signature-malformed")
    params = parsed[LABEL][1]
    if set(params) != PARAMETERS or params.get("alg") != ALGORITHM or params.get("tag") != TAG:
        raise Refused("signature-malformed")
    if type(params["created"]) is not int or type(params["expires"]) is not int:
        raise Refused("signature-malformed")
    if not 0 < params["expires"] - params["created"] <= MAX_LIFETIME:
        raise Refused("signature-malformed")
    nonce, key_id = params["nonce"], params["keyid"]
    if not isinstance(nonce, str) or not 16 <= len(nonce) <= 64 or not isinstance(key_id, str):
        raise Refused("signature-malformed")
    return params


def signature_of(headers: Headers) -> str:
    """The request's signature value: a response's signature covers it."""
    return headers.get("Signature") or ""
