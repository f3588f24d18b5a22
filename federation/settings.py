"""Federation's settings, with the value a node gets when its instance config says nothing."""

from __future__ import annotations

from flask import Flask, current_app

DEFAULTS = {
    # "node", or "hub": a hub keeps what its members share and relays what they may pass on.
    "FEDERATION_ROLE": "node",
    # The address other nodes reach this one at (https://… or http://….onion); empty for a
    # node behind NAT that only pulls.
    "FEDERATION_URL": "",
    # Shown in the public node document; empty keeps the group's name off the network.
    "FEDERATION_PUBLIC_NAME": "",
    # A SOCKS5 proxy for all federation traffic, e.g. "socks5h://127.0.0.1:9050" (Tor).
    "FEDERATION_PROXY": None,
    # (connect, read) time-outs in seconds; raise them for Tor.
    "FEDERATION_TIMEOUT": (10, 60),
    "FEDERATION_PAGE_SIZE": 1000,
    # The circuit breaker: after this many failed rounds in a row a peer is rested, for
    # FEDERATION_REST seconds doubled with each further failure, up to FEDERATION_MAX_REST.
    "FEDERATION_FAILURES_BEFORE_REST": 3,
    "FEDERATION_REST": 60,
    "FEDERATION_MAX_REST": 3600,
    # How many pairing requests may wait for an administrator at once; each waits this
    # many days at most (then it is forgotten, and no longer counts).
    "FEDERATION_MAX_PENDING": 20,
    "FEDERATION_PENDING_DAYS": 7,
    # How many new pairing requests one client (one address) may leave waiting in an hour,
    # counted in each worker's memory only.
    "FEDERATION_REQUESTS_PER_CLIENT": 3,
    "FEDERATION_BUNDLE_MAX_BYTES": 512 * 1024 * 1024,
}


def setting(name: str, app: Flask | None = None):
    return (app or current_app).config.get(name, DEFAULTS[name])


def is_hub(app: Flask | None = None) -> bool:
    return setting("FEDERATION_ROLE", app) == "hub"
