"""Federation's settings, declared through core's ``register_settings`` hook: each with its
type, the value a node gets when its instance config says nothing, and what it does."""

from __future__ import annotations

from flask import Flask, current_app

from core.settings import Setting

SETTINGS = [
    Setting("FEDERATION_ROLE", "node", "a hub keeps what its members share and relays what "
            "they may pass on", choices=("node", "hub")),
    Setting("FEDERATION_URL", "", "the address other nodes reach this one at (https://… or "
            "http://….onion); empty for a node behind NAT that only pulls"),
    Setting("FEDERATION_PUBLIC_NAME", "", "shown in the public node document; empty keeps "
            "the group's name off the network"),
    Setting("FEDERATION_PROXY", None, "a SOCKS5 proxy for all federation traffic, e.g. "
            "socks5h://127.0.0.1:9050 (Tor)", kind=(str, type(None))),
    Setting("FEDERATION_TIMEOUT", (10, 60), "(connect, read) time-outs in seconds, or one "
            "for both; raise them for Tor", kind=(tuple, list, float)),
    Setting("FEDERATION_PAGE_SIZE", 1000, "entries asked for per page of a pull"),
    # The circuit breaker: after this many failed rounds in a row a peer is rested, for
    # FEDERATION_REST seconds doubled with each further failure, up to FEDERATION_MAX_REST.
    Setting("FEDERATION_FAILURES_BEFORE_REST", 3, "failed rounds in a row before a peer is "
            "rested"),
    Setting("FEDERATION_REST", 60, "seconds a peer first rests, doubled with each further "
            "failure", kind=float),
    Setting("FEDERATION_MAX_REST", 3600, "the longest rest, in seconds", kind=float),
    Setting("FEDERATION_MAX_PENDING", 20, "pairing requests that may wait for an "
            "administrator at once"),
    Setting("FEDERATION_PENDING_DAYS", 7, "days a pairing request waits at most (then it is "
            "forgotten, and no longer counts)"),
    Setting("FEDERATION_REQUESTS_PER_CLIENT", 3, "new pairing requests one client (one "
            "address) may leave waiting in an hour, counted in each worker's memory only"),
    Setting("FEDERATION_BUNDLE_MAX_BYTES", 512 * 1024 * 1024, "the largest offline bundle "
            "a node imports, in bytes"),
    Setting("FEDERATION_SYNC_WORKERS", 8, "peers a sync round works with at once (threads "
            "waiting on the network; one at a time writes to the database); 1: one after "
            "another"),
    Setting("FEDERATION_SIGNATURE_PROCESSES", None, "processes that check a long page's "
            "signatures on other cores while it is read; 0: checked in the syncing process "
            "alone; unset: one per core, at most 2, none on one core", kind=(int, type(None))),
]
DEFAULTS = {s.name: s.default for s in SETTINGS}


def setting(name: str, app: Flask | None = None):
    """A federation setting's value (start-up gave unset ones their default)."""
    return (app or current_app).config.get(name, DEFAULTS[name])


def is_hub(app: Flask | None = None) -> bool:
    return setting("FEDERATION_ROLE", app) == "hub"
