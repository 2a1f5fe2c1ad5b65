-- Readiness: the server answers a trivial statement.
SELECT 1 AS ok
