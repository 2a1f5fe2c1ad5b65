-- The columns of agno's two tables and of their archives, in table order (dropped ones left out); archive and
-- restore copy exactly the live tables' columns, which the archives must all have (migrate --lifecycle adds new ones).
SELECT ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass(%(sessions)s)
             AND attnum > 0 AND NOT attisdropped ORDER BY attnum) AS sessions,
       ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass(%(runs)s)
             AND attnum > 0 AND NOT attisdropped ORDER BY attnum) AS runs,
       ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass(%(archived_sessions)s)
             AND attnum > 0 AND NOT attisdropped ORDER BY attnum) AS archived_sessions,
       ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass(%(archived_runs)s)
             AND attnum > 0 AND NOT attisdropped ORDER BY attnum) AS archived_runs,
       to_regclass(%(holds)s) IS NOT NULL AS holds
