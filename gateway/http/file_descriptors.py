"""File descriptors: raise the soft limit to the hard one, and keep a reserve below it.

Every client connection holds a descriptor; so do ZeroMQ (its sockets, its internal
signalling pairs), each worker's pipes, the state database, model files and logs. libzmq
aborts the process when it cannot get a descriptor it needs, and a worker restart fails
with EMFILE, so client connections are capped at what the limit leaves after a reserve
for all that: running out of descriptors refuses a client, it never kills the gateway.
"""

from __future__ import annotations

import logging
import resource

from gateway.http.connections import REFUSAL_SLACK

log = logging.getLogger(__name__)

# ZeroMQ (sockets, mailboxes, the io thread's epoll), worker pipes, the SQLite state,
# model and upload files, logs: measured idle use is ~40 with one worker; room for more.
FD_RESERVE = 128
# asyncio accepts up to `backlog` connections per loop turn before any of them can be
# refused (closing takes two more turns), so that number bounds the burst: a few bursts in
# flight are taken from the reserve. The kernel's queue of connections not yet accepted
# (no descriptors of ours) is set apart, after asyncio's listen, to uvicorn's default.
ACCEPT_BURST = 16
KERNEL_BACKLOG = 2048
# Ask for no more than this when the hard limit is unlimited.
_UNLIMITED_TARGET = 1 << 20


def raise_descriptor_limit() -> int:
    """Raise RLIMIT_NOFILE's soft limit to the hard limit; returns the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = _UNLIMITED_TARGET if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("could not raise the descriptor limit from %d to %d: %s", soft, target, exc)
    return _UNLIMITED_TARGET if soft == resource.RLIM_INFINITY else soft


def connection_cap(configured: int, soft_limit: int) -> int:
    """LX_MAX_CONNECTIONS, lowered so that the reserve and the refusals in flight fit."""
    room = soft_limit - FD_RESERVE - REFUSAL_SLACK
    if room < configured:
        log.warning(
            "%d file descriptors allow %d connections, not LX_MAX_CONNECTIONS=%d "
            "(%d are kept for ZeroMQ, workers and files): raise LimitNOFILE / ulimit -n",
            soft_limit,
            max(1, room),
            configured,
            FD_RESERVE,
        )
    return max(1, min(configured, room))
