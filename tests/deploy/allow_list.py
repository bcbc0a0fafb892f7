"""Names the deploy files use before the code has them.

LEAD: EMPTY THIS SET AFTER MERGING THE SECURITY AND PROBES WORK (issue 11, items 3 and 4:
the bearer token read from LX_API_TOKEN_FILE, and the /readyz route). From then on every
deploy file's variables and probe paths must exist in the code, and an entry left here that
the code now has fails tests/deploy/test_settings_crosscheck.py.
"""

from __future__ import annotations

from typing import Final

EXPECTED_FROM_SECURITY_WORK: Final = frozenset({"LX_API_TOKEN_FILE", "/readyz"})
