"""PostgreSQL's value limits, held once: validation refuses values beyond them, storage clamps to them."""

BIGINT_MAX = 2**63 - 1  # bigint (int8), the type of agno's timestamps and of LIMIT/OFFSET
