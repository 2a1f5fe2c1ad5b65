-- How many written runs wait for the drain to index them (`check`; searches read them meanwhile).
SELECT count(*) AS pending FROM {pending}
