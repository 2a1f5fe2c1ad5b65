-- Exact session totals per type without scanning the sessions table: every statement that inserts or deletes
-- sessions (this service's, AgentOS's, anyone's) appends one delta row per type in its own transaction, so a
-- snapshot that sees a session row sees its delta too, and sum(delta) = count(*) in every snapshot. Delta rows
-- are appended, never updated: concurrent writers never wait on each other.
CREATE TABLE IF NOT EXISTS {counts} (session_type text, delta bigint NOT NULL);
