-- How many sessions an export will carry (its progress bar's end).
SELECT count(*) AS sessions FROM {sessions} s
{where}
