"""Exit codes a worker process uses to say why it ended on its own.

The supervisor reads them to tell an out-of-memory exit from a crash: a signal or
any other code is a crash.
"""

from __future__ import annotations

# The worker's resident memory passed its limit (--memory-limit-mb); chosen to be
# distinct from Python's own codes (1, 2) and from 128 + signal.
EXIT_MEMORY_LIMIT = 86
