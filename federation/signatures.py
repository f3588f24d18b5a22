"""Ed25519 signature checks, and a page's checks made together: on the machine's other cores
(a ``concurrent.futures`` process pool) while the page is still read and written, and all of
them answered before anything they vouch for is announced, relayed or committed.

The pool belongs to the process that uses it. It is made on the first long page, never at
import (a gunicorn master that loads the app makes none; each worker that needs one makes
its own), its processes are started fresh ("spawn": they hold nothing of this process's
memory, no unlocked key, no database connection), and it is shut down when the process
exits; if that process is killed, its checking processes end with it. With one core (or
``FEDERATION_SIGNATURE_PROCESSES = 0``) there is no pool and every check is made here; if
the pool breaks or stops answering, the checks are made here too. Only the speed differs:
the outcome is the one checking each signature in its turn gives.
"""

from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as NoAnswer
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import lru_cache

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import VerifyKey

from federation.reasons import Refused
from federation.settings import setting

Check = tuple[bytes, bytes, bytes]  # public key, signed bytes, signature

BATCH = 50  # checks handed to the pool at once; a page with fewer is checked here
MOST_PROCESSES = 2  # one keeps up with a page's reader (a check costs half an entry's read)
ANSWER_TIMEOUT = 30.0  # seconds; a batch takes a few milliseconds


@lru_cache(maxsize=4096)
def _verify_key(public_key: bytes) -> VerifyKey:
    return VerifyKey(public_key)


def verify(public_key: bytes, data: bytes, signature: bytes) -> bool:
    """True if ``signature`` is the Ed25519 signature of ``data`` by ``public_key``."""
    try:
        _verify_key(public_key).verify(data, signature)
    except (BadSignatureError, CryptoError, ValueError, TypeError):
        return False
    return True


def all_hold(checks: Iterable[Check]) -> bool:
    """True if every (public key, signed bytes, signature) holds; what the pool runs."""
    return all(verify(*check) for check in checks)


class Signatures:
    """Signature checks gathered while a page is read: a batch at a time to the pool, the
    rest here when they are settled. Any invalid signature refuses the whole page."""

    def __init__(self):
        self._pending: list[Check] = []
        self._handed: list[tuple[ProcessPoolExecutor, Future, list[Check]]] = []
        self._here = False  # the pool refused a batch: the rest of the page is checked here

    def add(self, public_key: bytes, data: bytes, signature: bytes) -> None:
        self._pending.append((public_key, data, signature))
        if len(self._pending) >= BATCH and not self._here:
            self._hand_over()

    def hand_over_rest(self) -> None:
        """The page is read: its last checks go too, if the others went (they are checked
        while the page is written)."""
        if self._handed and self._pending and not self._here:
            self._hand_over()

    def _hand_over(self) -> None:
        pool = checking_pool()
        if pool is None:
            return  # checked here when settled
        try:
            future = pool.submit(all_hold, self._pending)
        except (BrokenProcessPool, RuntimeError):  # broken, or shut down: checked here
            _forget(pool)
            self._here = True
            return
        self._handed.append((pool, future, self._pending))
        self._pending = []

    def settle(self) -> None:
        """Check what was gathered (wait for the pool's answers); any invalid signature
        refuses it all."""
        pending, handed = self._pending, self._handed
        self._pending, self._handed = [], []
        valid = all_hold(pending) and all(_answer(*each) for each in handed)
        for _pool, future, _batch in handed:
            future.cancel()  # after a refusal, what the pool has not started is not needed
        if not valid:
            raise Refused("entry-signature-invalid")


def _answer(pool: ProcessPoolExecutor, future: Future, batch: list[Check]) -> bool:
    """The pool's answer for ``batch``; checked here instead if the pool has not started it
    (no waiting for a pool still starting), broke, or gives no answer in time (its
    processes are then ended)."""
    if future.cancel():
        return all_hold(batch)
    try:
        return future.result(timeout=ANSWER_TIMEOUT)
    except NoAnswer:
        _end(pool)
    except BrokenProcessPool:
        _forget(pool)
    return all_hold(batch)


@contextmanager
def checked_together(signatures: Signatures, *, settle: bool = True):
    """Run a page's checks, gathering its signatures, then settle them (unless ``settle`` is
    False: the caller settles them later, before it lets anything verified by them out). A
    refusal on the way is raised only if every signature gathered before it holds, so a page
    is refused for the first thing wrong in it, as if each signature had been checked in its
    turn."""
    try:
        yield signatures
    except Refused:
        signatures.settle()
        raise
    if settle:
        signatures.settle()
    else:
        signatures.hand_over_rest()


# -- the pool -------------------------------------------------------------------------------


_pools: dict[tuple[int, int], ProcessPoolExecutor] = {}  # (owner's pid, size): its pool
_making = threading.Lock()  # a gunicorn worker's threads make one pool between them


def processes_for(cores: int) -> int:
    """How many checking processes suit a machine whose process may use ``cores``: every
    core but the reader's, up to ``MOST_PROCESSES``; none with one core."""
    return max(0, min(cores - 1, MOST_PROCESSES))


def processes() -> int:
    """``FEDERATION_SIGNATURE_PROCESSES``, or what suits this machine when it is not set."""
    configured = setting("FEDERATION_SIGNATURE_PROCESSES")
    if configured is None:
        return processes_for(len(os.sched_getaffinity(0)))
    return configured


def checking_pool() -> ProcessPoolExecutor | None:
    """This process's pool of ``processes()`` checking processes, made on first use; None
    when the checks are made here."""
    size = processes()
    if size < 1:
        return None
    owner = (os.getpid(), size)  # a forked child (a gunicorn worker) never uses its parent's
    with _making:
        if owner not in _pools:
            _pools[owner] = ProcessPoolExecutor(size, initializer=_end_with_parent,
                                                mp_context=multiprocessing.get_context("spawn"))
        return _pools[owner]


def _end_with_parent() -> None:
    """Run by each checking process as it starts: it ends when the process that made it
    does, even killed (left alone, it would wait for work for ever)."""
    parent = multiprocessing.parent_process()
    threading.Thread(target=_exit_after, args=(parent.sentinel,), daemon=True).start()


def _exit_after(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(0)


def _forget(pool: ProcessPoolExecutor) -> None:
    """A broken pool is left for a new one (its processes are already gone)."""
    with _making:
        for owner, made in list(_pools.items()):
            if made is pool:
                del _pools[owner]
    pool.shutdown(wait=False, cancel_futures=True)


def _end(pool: ProcessPoolExecutor) -> None:
    """A pool that stopped answering: its processes are killed and it is forgotten.
    (Python 3.14 has ``terminate_workers()`` for this; until then, the pool's own list.)"""
    for process in list((pool._processes or {}).values()):  # noqa: SLF001 - see above
        process.kill()
        process.join()
    _forget(pool)


@atexit.register
def _shut_down() -> None:
    """As this process exits: the pools it made end, once their processes have."""
    for (owner, _size), pool in list(_pools.items()):
        if owner == os.getpid():
            pool.shutdown(wait=True, cancel_futures=True)
