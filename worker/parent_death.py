"""A local worker dies with its gateway, whatever state it is in.

Polling the parent pid (the heartbeat loop does) cannot help a worker that is stopped
(SIGSTOP, a debugger) or stuck in native code when its gateway is SIGKILLed: it would
linger holding a device and its memory. Linux's parent-death signal makes the kernel
send SIGKILL the moment the parent ends, and SIGKILL ends a stopped process too.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent_pid: int) -> bool:
    """Ask for SIGKILL when the parent ends; False where the platform has no such thing.

    The signal follows the thread that forked us: the gateway starts workers from its event
    loop's thread, which lives as long as the gateway.
    """
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        log.warning("prctl(PR_SET_PDEATHSIG) failed: %s", os.strerror(ctypes.get_errno()))
        return False
    if os.getppid() != parent_pid:
        # The parent ended before the signal was asked for: nobody would send it.
        # Exit 0, as when the heartbeat loop finds the gateway gone: nothing failed here.
        log.warning("gateway process %s is gone before the worker started; exiting", parent_pid)
        os._exit(0)
    return True
