"""Ed25519 signature checks, and a page's checks made together: on the machine's other cores
(a ``concurrent.futures`` process pool) while the page is still read and written, and all of
them answered before anything they vouch for is announced, relayed or committed.

The pool belongs to the process that uses it. It is made on the first long page, never at
import (a gunicorn master that loads the app makes none; each worker that needs one makes
its own), its processes are started fresh ("spawn": they hold nothing of this process's
memory, no unlocked key, no database connection), and it is shut down when the process
exits; if that process is killed, its checking processes end with it. Until it has
answered its first call, checks are made here (nothing waits for a pool still starting);
when a page is settled, the batches the pool has not taken yet are taken back and checked
here while it finishes the ones it holds (nothing waits for a pool that is behind). With one
core (or ``FEDERATION_SIGNATURE_PROCESSES = 0``) there is no pool and every check
is made here; if the pool breaks or stops answering, the checks are made here too. Only the
speed differs: the outcome is the one checking each signature in its turn gives. (On Python
3.11 a pool whose process dies while this process takes a batch back can print an
InvalidStateError from the pool's own manager thread — python/cpython gh-107219, fixed in
3.12 — and leave that batch unanswered: it is checked here after ``ANSWER_TIMEOUT``.)

Other pure work of a page may go to the same pool beside its checks (:class:`Worked`: a
shared record's index words), with the same rule: what the pool has not started when it is
wanted is done here.
"""

from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as NoAnswer
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import lru_cache, partial
from typing import Any

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import VerifyKey

from federation.reasons import Refused
from federation.settings import setting

Check = tuple[bytes, bytes, bytes]  # public key, signed bytes, signature

# Checks handed to the pool at once; a page with fewer is checked here. Each hand-over and
# answer passes through the pool's threads in this process, which run only between this
# thread's turns (Python's switch interval, 5 ms): small batches left the pool waiting.
BATCH = 500
# One per core, up to two: a page's checks and index words are wanted a few tens of
# milliseconds after its items are read, and one process alone was still at them then
# (docs/performance.md, "Words beside the checks, the index on the held row, a checking
# process per core").
MOST_PROCESSES = 2
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
        pool = started_pool()
        if pool is None:
            return  # checked here when settled
        future = _submit(pool, all_hold, self._pending)
        if future is None:  # broken, or shut down: checked here
            self._here = True
            return
        self._handed.append((pool, future, self._pending))
        self._pending = []

    def settle(self) -> None:
        """Check what was gathered (wait for the pool's answers); any invalid signature
        refuses it all."""
        pending, handed = self._pending, self._handed
        self._pending, self._handed = [], []
        valid = all_hold(pending) and all(_answers(handed, all_hold))
        if not valid:
            raise Refused("entry-signature-invalid")


class Worked:
    """``function`` of each value added, worked out in the pool a batch at a time while this
    process goes on (a batch goes as soon as it is full: beside the signature checks of the
    same items); :meth:`results` gives them in order. Only for pure work whose result does
    not depend on where it is done (a module-level function, picklable values): what the
    pool has not started when the results are wanted, and what never made a full batch, is
    worked out here."""

    def __init__(self, function: Callable, values: Iterable = ()):
        self._function = function
        self._pending: list = []
        self._parts: list[tuple[ProcessPoolExecutor | None, Future | None, list]] = []
        self._here = False  # the pool refused a batch: the rest is worked out here
        for value in values:
            self.add(value)

    def add(self, value) -> None:
        self._pending.append(value)
        if len(self._pending) >= BATCH and not self._here:
            self._hand_over()

    def _hand_over(self) -> None:
        pool = started_pool()
        future = _submit(pool, each_of, self._function, self._pending) \
            if pool is not None else None
        self._here = pool is None or future is None
        self._parts.append((pool, future, self._pending))
        self._pending = []

    @property
    def handed(self) -> bool:
        """Whether any of it went to the pool (if not, :meth:`results` works it all out
        here)."""
        return any(future is not None for _pool, future, _part in self._parts)

    def results(self) -> list:
        here = partial(each_of, self._function)
        handed = [(pool, future, part) for pool, future, part in self._parts
                  if future is not None]
        answers = iter(_answers(handed, here))
        found = []
        for _pool, future, part in self._parts:
            found += here(part) if future is None else next(answers)
        found += here(self._pending)
        self._parts, self._pending = [], []
        return found


def each_of(function: Callable, values: list) -> list:
    """What the pool runs for :class:`Worked`."""
    return [function(value) for value in values]


def _submit(pool: ProcessPoolExecutor, function: Callable, *args) -> Future | None:
    """``function(*args)`` handed to the pool; None if the pool is broken or shut down."""
    try:
        return pool.submit(function, *args)
    except (BrokenProcessPool, RuntimeError):
        _forget(pool)
        return None


def _answers(handed: list[tuple[ProcessPoolExecutor, Future, list]],
             here: Callable[[list], Any]) -> list:
    """The answers for batches handed to the pool, in their order. The pool takes batches
    first to last (a few at a time: those it has taken cannot be taken back), so what it has
    not taken is taken back last first, at once, and worked out here (``here(batch)``) while
    the pool finishes the ones it holds; then those answers are waited for."""
    taken_back = {index for index in reversed(range(len(handed)))
                  if handed[index][1].cancel()}
    return [here(batch) if index in taken_back else _answer(pool, future, batch, here)
            for index, (pool, future, batch) in enumerate(handed)]


def _answer(pool: ProcessPoolExecutor, future: Future, batch: list,
            here: Callable[[list], Any] = all_hold) -> Any:
    """The pool's answer for ``batch``; worked out here instead (``here(batch)``: checked,
    by default) if the pool has not started it (no waiting for a pool still starting),
    broke, or gives no answer in time (its processes are then ended)."""
    if future.cancel():
        return here(batch)
    try:
        return future.result(timeout=ANSWER_TIMEOUT)
    except NoAnswer:
        _end(pool)
    except BrokenProcessPool:
        _forget(pool)
    return here(batch)


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
_started: dict[ProcessPoolExecutor, Future] = {}  # a pool's first call: answered once it runs
_making = threading.Lock()  # a gunicorn worker's threads make one pool between them


def processes_for(cores: int) -> int:
    """How many checking processes suit a machine whose process may use ``cores``: one per
    core, up to ``MOST_PROCESSES``; none with one core (every check is then made here)."""
    return 0 if cores < 2 else min(cores, MOST_PROCESSES)


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
            pool = ProcessPoolExecutor(size, initializer=_end_with_parent,
                                       mp_context=multiprocessing.get_context("spawn"))
            _pools[owner], _started[pool] = pool, pool.submit(os.getpid)
        return _pools[owner]


def started_pool() -> ProcessPoolExecutor | None:
    """``checking_pool()`` once it has answered its first call. Until then (a fresh Python
    importing the project: one to five seconds here) work is done here: handed to a pool
    still starting, the batches it had taken would hold a page back until it runs."""
    pool = checking_pool()
    return pool if pool is not None and _started[pool].done() else None


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
        _started.pop(pool, None)
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
