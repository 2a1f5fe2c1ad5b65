-- Whether a table exists in this database's schema (AgentOS checks this for `table=`).
SELECT to_regclass(format('%%I.%%I', %(schema)s::text, %(table)s::text)) IS NOT NULL AS present
