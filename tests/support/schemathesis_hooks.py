"""Schemathesis hooks for this spec: bundles (`application/x-ndjson`, extension `portability`) are sent as text.

Loaded by the in-process run (tests/integration/test_schemathesis.py imports it) and by the CLI run
(scripts/fuzz.py sets SCHEMATHESIS_HOOKS to this module)."""

from __future__ import annotations

import schemathesis

schemathesis.serializer.alias("application/x-ndjson", "text/plain")
