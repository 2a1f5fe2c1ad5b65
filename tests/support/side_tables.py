"""agno 3.1.10's per-session side tables, as tests create them (integration tests of the cascade and of bundles)."""

from __future__ import annotations

# The tables as agno 3.1.10 creates them (recorded from PostgresDb / DbFileSystem on PostgreSQL; indexes omitted).
SIDE_TABLES = {
    "transcripts": """CREATE TABLE ai.agno_transcripts (
        framework varchar NOT NULL, project_key varchar NOT NULL, session_id varchar NOT NULL,
        subpath varchar NOT NULL, position bigint NOT NULL, entry_uuid varchar, entry varchar NOT NULL,
        agno_session_id varchar NOT NULL, created_at bigint NOT NULL,
        PRIMARY KEY (framework, project_key, session_id, subpath, position))""",
    "compactions": """CREATE TABLE ai.agno_compactions (
        compaction_id varchar PRIMARY KEY, session_id varchar NOT NULL, run_id varchar, user_id varchar,
        first_kept_message_id varchar, summary varchar, archived_messages varchar, messages_compacted bigint,
        tokens_before bigint, tokens_after bigint, created_at bigint NOT NULL)""",
    "tool_results": """CREATE TABLE ai.agno_tool_results (
        result_id varchar PRIMARY KEY, namespace varchar NOT NULL, path varchar NOT NULL,
        session_id varchar NOT NULL, run_id varchar NOT NULL, tool_call_id varchar NOT NULL,
        tool_name varchar NOT NULL, args_hash varchar NOT NULL, content_type varchar NOT NULL,
        size_bytes bigint NOT NULL, line_count bigint NOT NULL, preview text NOT NULL, user_id varchar,
        created_at bigint NOT NULL, expires_at bigint, UNIQUE (namespace, path))""",
    "payloads": """CREATE SCHEMA fs; CREATE TABLE fs.agno_fs (
        namespace varchar NOT NULL, path varchar NOT NULL, content text NOT NULL, size_bytes bigint NOT NULL,
        version bigint NOT NULL, created_at bigint NOT NULL, updated_at bigint,
        user_id varchar NOT NULL DEFAULT '', PRIMARY KEY (namespace, user_id, path))""",
}
