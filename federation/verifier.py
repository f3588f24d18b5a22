"""Signature checks in a process of their own, so a long page is checked on another core
while this process reads and writes it (threads would not do: between two checks each
thread must take Python's lock back, and a busy reader keeps it for milliseconds).

The child is this file run as a script: it imports nothing but PyNaCl, reads batches of
(public key, signature, signed bytes) on its standard input and answers each batch with one
byte, 1 when every signature in it holds. It holds no secret and writes nothing; it ends
when this process closes its input (or dies: the pipe closes with it). If it cannot be
started or stops answering, the checks are made here instead: only the speed differs.

Wire format (nothing else crosses): a batch is its number and its count of checks (4 bytes
each, big-endian), then per check a 32-byte key, a 64-byte signature, the length of the
signed bytes (4 bytes) and the bytes; the answer is the batch's number and one byte. Answers
are matched to batches by number, so a batch whose answer was never collected (its page
failed for another reason) cannot be taken for a later one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import struct
import subprocess
import sys
from collections.abc import Callable, Iterable

Check = tuple[bytes, bytes, bytes]  # public key, signed bytes, signature

PIPE_SIZE = 1 << 20  # so that handing a batch over does not wait for the child to read
ANSWER_TIMEOUT = 30.0  # seconds; a batch of 50 checks takes a few milliseconds
_COUNT = struct.Struct(">I")
_HEAD = struct.Struct(">II")  # batch number, count
_ANSWER = struct.Struct(">I?")  # batch number, every signature holds


def encode(number: int, batch: list[Check]) -> bytes:
    parts = [_HEAD.pack(number, len(batch))]
    for public_key, data, signature in batch:
        if len(public_key) != 32 or len(signature) != 64:
            raise ValueError("a key is 32 bytes and a signature 64")
        parts += [public_key, signature, _COUNT.pack(len(data)), data]
    return b"".join(parts)


def _read_exactly(stream, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError
    return data


def decode(stream) -> tuple[int, list[Check]]:
    """One numbered batch from ``stream`` (EOFError at its end)."""
    number, count = _HEAD.unpack(_read_exactly(stream, _HEAD.size))
    batch = []
    for _ in range(count):
        head = _read_exactly(stream, 100)
        (length,) = _COUNT.unpack(head[96:])
        batch.append((head[:32], _read_exactly(stream, length), head[32:96]))
    return number, batch


class Child:
    """The checking process, as its parent (one thread of it) sees it."""

    def __init__(self):
        self.process = subprocess.Popen(  # noqa: S603 - this file, run by this Python
            [sys.executable, "-I", os.path.abspath(__file__)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True,
            env={"LC_ALL": "C"})  # nothing of this process's environment: it needs none
        self.owner = os.getpid()
        self.numbered = 0
        with contextlib.suppress(OSError, AttributeError):  # Linux: room for a whole page
            fcntl.fcntl(self.process.stdin.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)

    @property
    def usable(self) -> bool:
        return self.owner == os.getpid() and self.process.poll() is None

    def hand_over(self, batch: list[Check]) -> int | None:
        """Send a batch; return its number, or None if the child is gone."""
        self.numbered += 1
        try:
            self.process.stdin.write(encode(self.numbered, batch))
            self.process.stdin.flush()
        except (OSError, ValueError):
            return None
        return self.numbered

    def answer(self, number: int) -> bool | None:
        """Whether every signature of batch ``number`` holds; None if the child is gone or
        has not answered within ``ANSWER_TIMEOUT`` (it is then ended). Answers to older
        batches, never collected, are passed over."""
        while True:
            data = self._read_answer()
            if data is None:
                return None
            answered, holds = _ANSWER.unpack(data)
            if answered == number:
                return holds
            if answered > number:
                return None  # cannot happen with one reader; never guess

    def _read_answer(self) -> bytes | None:
        """One answer's bytes, read straight from the pipe (nothing buffered elsewhere, so
        waiting on it is exact)."""
        data = b""
        descriptor = self.process.stdout.fileno()
        while len(data) < _ANSWER.size:
            ready, _, _ = select.select([descriptor], [], [], ANSWER_TIMEOUT)
            if not ready:
                self.process.kill()  # stopped or stuck: the checks are made elsewhere
                return None
            try:
                chunk = os.read(descriptor, _ANSWER.size - len(data))
            except OSError:
                return None
            if not chunk:
                return None
            data += chunk
        return data

    def close(self) -> None:
        """End the child (it ends by itself once its input closes) and its pipes."""
        with contextlib.suppress(OSError, ValueError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


def serve(stdin, stdout, check: Callable[[Iterable[Check]], bool]) -> None:
    """The child's loop: a batch in, its answer out, until the input ends."""
    while True:
        try:
            number, batch = decode(stdin)
        except (EOFError, struct.error):
            return
        stdout.write(_ANSWER.pack(number, check(batch)))
        stdout.flush()


def _all_hold(batch: Iterable[Check]) -> bool:
    from nacl.exceptions import BadSignatureError, CryptoError
    from nacl.signing import VerifyKey

    try:
        for public_key, data, signature in batch:
            key = _KEYS.get(public_key) or _KEYS.setdefault(public_key, VerifyKey(public_key))
            key.verify(data, signature)
    except (BadSignatureError, CryptoError, ValueError, TypeError):
        return False
    return True


_KEYS: dict = {}  # the child's own: few keys sign a page


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer, _all_hold)
