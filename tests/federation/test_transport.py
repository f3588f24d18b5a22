"""The signature profile: RFC 9421 (B.2.6 vector), RFC 9530 digests, and every profile rule."""

import base64
import json
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from http_message_signatures import ContentDigest, HTTPMessageSigner, HTTPMessageVerifier
from http_message_signatures import signatures as library
from nacl.signing import SigningKey

from federation import identity, transport
from federation.reasons import REASONS, Refused

VECTORS = Path(__file__).parent / "vectors"
NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
URL = "http://127.0.0.1:5001/federation/outbox?feed=peers&after=0&limit=500"


def vector(name):
    return json.loads((VECTORS / name).read_text())


# -- RFC 9421, Appendix B.2.6 ---------------------------------------------------------------


B26 = vector("rfc9421-b26-ed25519.json")


def b26_keys():
    private = serialization.load_pem_private_key(B26["private_key_pem"].encode(), None)
    seed = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                 serialization.NoEncryption())
    public = serialization.load_pem_public_key(B26["public_key_pem"].encode()).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return SigningKey(seed), public


def b26_request(with_signature=True):
    headers = list(B26["request"]["headers"].items())
    if with_signature:
        headers += [("Signature-Input", B26["signature_input"]), ("Signature", B26["signature"])]
    return transport.Request(B26["request"]["method"], B26["request"]["url"],
                             transport.Headers(headers))


def pinned_clock(monkeypatch, timestamp):
    """Pin the library's clock (the vector was made in 2021)."""
    class Pinned(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.fromtimestamp(timestamp, tz or UTC)

    fake = types.SimpleNamespace(datetime=Pinned, timezone=library.datetime.timezone,
                                 timedelta=library.datetime.timedelta)
    monkeypatch.setattr(library, "datetime", fake)


def test_rfc9421_b26_verifies_with_our_ed25519_and_the_clock_pinned(monkeypatch):
    _, public = b26_keys()
    pinned_clock(monkeypatch, 1618884473 + 10)

    class Key:
        def resolve_public_key(self, key_id):
            return public if key_id == "test-key-ed25519" else None

    verifier = HTTPMessageVerifier(signature_algorithm=transport.Ed25519, key_resolver=Key())
    (result,) = verifier.verify(b26_request(), max_age=timedelta(minutes=5))
    assert result.label == "sig-b26"
    assert "\n".join(f"{k}: {v}" for k, v in result.covered_components.items()) == \
        B26["signature_base"]


def test_rfc9421_b26_without_the_pinned_clock_is_too_old():
    _, public = b26_keys()

    class Key:
        def resolve_public_key(self, key_id):
            return public

    verifier = HTTPMessageVerifier(signature_algorithm=transport.Ed25519, key_resolver=Key())
    with pytest.raises(Exception, match="age"):
        verifier.verify(b26_request(), max_age=timedelta(minutes=5))


def test_rfc9421_b26_is_reproduced_byte_for_byte_by_prepare_and_an_outside_signer():
    key, _ = b26_keys()
    message = b26_request(with_signature=False)
    signer = HTTPMessageSigner(signature_algorithm=transport.Ed25519)
    prepared = signer.prepare(
        message, key_id="test-key-ed25519", label="sig-b26", include_alg=False,
        use_existing_digest=True,
        created=datetime.fromtimestamp(1618884473, UTC),
        covered_component_ids=("date", "@method", "@path", "@authority", "content-type",
                               "content-length"))
    assert prepared.signature_base.decode() == B26["signature_base"]
    signer.apply(message, prepared, key.sign(prepared.signature_base).signature)
    assert message.headers.get("Signature-Input") == B26["signature_input"]
    assert message.headers.get("Signature") == B26["signature"]


def test_our_ed25519_never_signs():
    with pytest.raises(Exception, match="federation.signing"):
        transport.Ed25519(private_key=b"\x00" * 32)


# -- RFC 9530 --------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", vector("rfc9530-content-digest.json")["vectors"],
                         ids=lambda v: f"{v['algorithm']}-{len(v['body'])}")
def test_rfc9530_content_digests(sample):
    body = sample["body"].encode()

    class Algorithm(ContentDigest):
        algorithm = sample["algorithm"]

    assert Algorithm.create(body) == sample["content_digest"]
    ContentDigest.verify(sample["content_digest"], body)  # accepted, whichever algorithm
    with pytest.raises(Exception):  # noqa: B017 - the library's own exception type
        ContentDigest.verify(sample["content_digest"], body + b" ")


def test_a_sha512_digest_is_accepted_by_the_profile():
    key = SigningKey.generate()
    message = transport.Request("POST", URL, transport.Headers([
        ("Content-Digest", vector("rfc9530-content-digest.json")["vectors"][1]["content_digest"])
    ]))
    body = b'{"hello": "world"}'
    signer = HTTPMessageSigner(signature_algorithm=transport.Ed25519)
    prepared = signer.prepare(message, key_id=identity.key_id_of(bytes(key.verify_key)),
                              created=NOW, expires=NOW + timedelta(seconds=60), nonce="n" * 24,
                              label="rabita", tag=transport.TAG, body=body,
                              use_existing_digest=True,
                              covered_component_ids=("@method", "@authority", "@target-uri"))
    signer.apply(message, prepared, key.sign(prepared.signature_base).signature)
    verified = transport.verify_message(message, body, resolve_key=lambda _: bytes(key.verify_key),
                                        now=NOW)
    assert verified.nonce == "n" * 24


# -- the profile -----------------------------------------------------------------------------


KEY = SigningKey(b"\x07" * 32)
KEY_ID = identity.key_id_of(bytes(KEY.verify_key))


def resolve(key_id):
    return bytes(KEY.verify_key) if key_id == KEY_ID else None


def signed(body=b"", *, created=NOW, lifetime=120, nonce="a-nonce-of-enough-length", tag=None,
           label="rabita", key=KEY, key_id=KEY_ID, components=("@method", "@authority",
                                                             "@target-uri"), method="GET"):
    message = transport.Request(method, URL, transport.Headers())
    signer = HTTPMessageSigner(signature_algorithm=transport.Ed25519)
    prepared = signer.prepare(message, key_id=key_id, created=created,
                              expires=created + timedelta(seconds=lifetime) if lifetime else None,
                              nonce=nonce, label=label, tag=transport.TAG if tag is None else tag,
                              body=body, covered_component_ids=components)
    signer.apply(message, prepared, key.sign(prepared.signature_base).signature)
    return message


def refusal(message, body=b"", now=NOW, resolver=resolve):
    with pytest.raises(Refused) as refused:
        transport.verify_message(message, body, resolve_key=resolver, now=now)
    return refused.value.code


def test_our_own_signing_verifies():
    message = transport.Request("GET", URL, transport.Headers())
    transport.sign(message, b"", key_id=KEY_ID, sign_bytes=lambda data: KEY.sign(data).signature,
                   now=NOW)
    verified = transport.verify_message(message, b"", resolve_key=resolve, now=NOW)
    assert verified.key_id == KEY_ID and verified.expires_at == NOW + transport.LIFETIME
    params = message.headers.get("Signature-Input")
    assert 'tag="rabita-federation-v1"' in params and 'alg="ed25519"' in params
    assert '"content-digest"' in params and '"@target-uri"' in params


@pytest.mark.parametrize("seconds, code", [(61, "future-dated"), (-400, "expired")])
def test_times_outside_the_skew_are_refused(seconds, code):
    assert refusal(signed(created=NOW + timedelta(seconds=seconds))) == code


@pytest.mark.parametrize("seconds", [59, -170])
def test_clocks_may_differ_by_a_minute(seconds):
    transport.verify_message(signed(created=NOW + timedelta(seconds=seconds)), b"",
                             resolve_key=resolve, now=NOW)


def test_a_lifetime_over_300_seconds_is_refused():
    assert refusal(signed(lifetime=301)) == "signature-malformed"
    transport.verify_message(signed(lifetime=300), b"", resolve_key=resolve, now=NOW)


@pytest.mark.parametrize("change", [
    {"lifetime": None}, {"nonce": None}, {"nonce": "short"}, {"tag": "another-app"},
    {"label": "other"}, {"components": ("@method", "@target-uri")},
])
def test_signatures_outside_the_profile_are_refused(change):
    code = refusal(signed(**change))
    assert code in {"signature-malformed", "signature-invalid"}


def test_unknown_and_wrong_keys_get_the_same_code_and_text():
    stranger = SigningKey(b"\x09" * 32)
    unknown = refusal(signed(key=stranger, key_id=identity.key_id_of(bytes(stranger.verify_key))))
    wrong = refusal(signed(key=stranger))  # claims our key id, signed by another key
    assert unknown == wrong == "signature-invalid"


def test_the_body_is_checked_against_its_digest():
    message = signed(b'{"a":1}', method="POST")
    assert refusal(message, b'{"a":2}') == "digest-mismatch"
    message.headers["Content-Digest"] = ContentDigest.create(b'{"a":2}')
    assert refusal(message, b'{"a":2}') == "signature-invalid"  # the digest is signed


def test_an_unsigned_message_is_refused():
    assert refusal(transport.Request("GET", URL, transport.Headers())) == "unsigned"


def test_a_response_answers_one_request_only():
    request = signed()
    other = signed(nonce="another-nonce-of-length")
    response = transport.Response(200, transport.Headers([("Content-Type", "application/json")]),
                                  request)
    transport.sign(response, b"{}", key_id=KEY_ID,
                   sign_bytes=lambda data: KEY.sign(data).signature, now=NOW)
    transport.verify_message(response, b"{}", resolve_key=resolve, now=NOW)
    moved = transport.Response(200, response.headers, other)
    assert refusal(moved, b"{}") == "signature-invalid"
    changed = transport.Response(403, response.headers, request)
    assert refusal(changed, b"{}") == "signature-invalid"


def test_every_code_raised_here_is_a_known_reason():
    for code in ("unsigned", "signature-malformed", "signature-invalid", "expired",
                 "future-dated", "digest-missing", "digest-mismatch"):
        assert code in REASONS


def test_the_signature_is_base64_of_64_bytes():
    value = signed().headers.get("Signature")
    assert len(base64.b64decode(value.split(":")[1])) == 64
