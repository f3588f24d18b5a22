"""Reason codes: every refusal in the protocol, as a stable machine-readable word.

A refused request gets HTTP ``status`` and ``{"error": code, "message": text}``; a refused
page, bundle or entry on the consuming side raises ``Refused(code)``. The text of a code
never varies with what the node knows: an unknown key and a known key with a bad signature
both get ``signature-invalid`` and the same sentence, so nobody can probe who is paired.
docs/federation.md lists these codes; the test of this module keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    code: str
    status: int
    message: str


_REASONS = [
    # -- the message as a whole (checked before anything is parsed) -----------------------
    Reason("too-large", 413, "The message is larger than this node accepts."),
    Reason("length-required", 411, "A message with a body must state its length."),
    Reason("headers-too-large", 431, "The message's header fields are larger than this node "
                                     "accepts."),
    Reason("too-slow", 408, "The message did not arrive in time."),
    Reason("not-found", 404, "There is no such federation endpoint."),
    Reason("method-not-allowed", 405, "This endpoint does not take that method."),
    # -- the RFC 9421 signature ----------------------------------------------------------
    Reason("unsigned", 401, "The message carries no signature."),
    Reason("signature-malformed", 401,
           "The signature does not follow the Rabita signature profile."),
    Reason("signature-invalid", 401, "The signature could not be verified."),
    Reason("expired", 401, "The signature has expired."),
    Reason("future-dated", 401, "The signature was created in the future."),
    Reason("replayed", 401, "This signature was already used."),
    # -- the body (checked against the signed digest before it is parsed) ----------------
    Reason("digest-missing", 400, "The body is not covered by a signed Content-Digest."),
    Reason("digest-mismatch", 400, "The body does not match its Content-Digest."),
    Reason("json-invalid", 400, "The body is not valid JSON text."),
    Reason("duplicate-key", 400, "The JSON text repeats a key."),
    Reason("bad-request", 400, "The message does not have the expected form."),
    # -- who may ask for what ------------------------------------------------------------
    Reason("peer-not-approved", 403, "This node has not approved the requesting node."),
    Reason("feed-not-allowed", 403, "The requesting node may not read this feed."),
    Reason("not-a-hub", 404, "This node is not a hub."),
    Reason("too-many-requests", 429, "Too many pairing requests are waiting; try later."),
    Reason("node-locked", 503,
           "The node is locked: it signs and syncs nothing until its administrator unlocks it."),
    # -- entries, pages and bundles (the consuming side) ---------------------------------
    Reason("entry-invalid", 422, "An entry does not have the expected form."),
    Reason("entry-signature-invalid", 422, "An entry's origin signature does not verify."),
    Reason("key-revoked", 422, "An entry is signed by a key revoked before it was made."),
    Reason("key-superseded", 422, "An entry is signed by a key replaced before it was made."),
    Reason("wrong-origin", 422, "An entry comes from another origin than the feed's."),
    Reason("wrong-feed", 422, "An entry belongs to another feed (another audience)."),
    Reason("not-relayable", 422, "A relayed entry's consent does not cover partner nodes."),
    Reason("payload-mismatch", 422, "A payload does not match the hash its entry signs."),
    Reason("tally-invalid", 422, "A tally entry holds more than codes of the counted "
                                 "dimensions, or a code its vocabulary does not know."),
    Reason("sealed-invalid", 422, "A sealed entry or payload does not have the expected form, "
                                  "or does not open to what its origin signed."),
    Reason("takedown-invalid", 422, "A hub's takedown statement does not have the expected "
                                    "form, or is out of order."),
    Reason("record-type-version", 422, "An entry's record type is more than one version "
                                       "newer than this node's: upgrade its plugin."),
    Reason("gap", 422, "Entries are missing from the sequence."),
    Reason("fork", 422, "Two different entries claim the same place in a chain."),
    Reason("time-regression", 422, "An entry is dated before the entry it follows."),
    Reason("quarantined", 423, "This origin is quarantined until an administrator acts."),
    Reason("bundle-invalid", 422, "The bundle file is not a valid Rabita bundle."),
    Reason("bundle-not-for-us", 422, "The bundle was made for another node."),
    Reason("receipt-unknown", 422,
           "A receipt names no tombstone this node sent to its holder at that version."),
    # -- node-initiated sync: pushes and their acknowledgements (1.1) ---------------------
    Reason("push-misaddressed", 422, "The push or acknowledgement is addressed to another "
                                     "node."),
    Reason("ack-invalid", 422, "The acknowledgement does not have the expected form, or its "
                               "signature does not verify."),
    Reason("ack-mismatch", 422, "The acknowledgement does not answer the push it came with "
                                "(another push, feed or chain)."),
    # -- reaching a peer (the client side) ------------------------------------------------
    Reason("unreachable", 503, "The peer could not be reached."),
    Reason("server-error", 502, "The peer answered with an error."),
    Reason("circuit-open", 503, "The peer failed repeatedly; it is rested before a retry."),
    Reason("fingerprint-mismatch", 422,
           "The node's key does not match the fingerprint you were given."),
]

REASONS: dict[str, Reason] = {reason.code: reason for reason in _REASONS}


def reason(code: str) -> Reason:
    return REASONS[code]


class Refused(Exception):
    """A message, page, bundle or entry was refused; ``code`` says why (see REASONS)."""

    def __init__(self, code: str, detail: str = "", *, origin: str | None = None):
        if code not in REASONS:
            raise ValueError(f"Unknown reason code {code!r}; add it to federation/reasons.py.")
        # ``detail`` is for the operator's terminal only and never holds a received value.
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.origin = origin  # for a gap or a fork: the origin whose chain broke

    @property
    def status(self) -> int:
        return REASONS[self.code].status

    @property
    def message(self) -> str:
        return REASONS[self.code].message

    def as_json(self) -> dict:
        return {"error": self.code, "message": self.message}
