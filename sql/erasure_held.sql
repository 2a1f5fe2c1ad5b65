-- Whether a session of the subject, live or archived, is under an active legal hold at %(now)s (epoch seconds).
SELECT EXISTS (SELECT 1 FROM {holds} h
               WHERE h.session_id IN ({subject}) AND (h.until IS NULL OR h.until > %(now)s)) AS held
