"""Names the deploy files use before the code has them.

Empty since the security and probes work (issue 11, items 3 and 4: LX_API_TOKEN_FILE and
/readyz) merged: every deploy file's variables and probe paths must exist in the code, and an
entry left here that the code has fails tests/deploy/test_settings_crosscheck.py.
"""

from __future__ import annotations

from typing import Final

EXPECTED_FROM_SECURITY_WORK: Final[frozenset[str]] = frozenset()
