-- A rerun of a date replaces that date's sizes (and any later ones, which the rewind undid).
DELETE FROM segments.sizes WHERE run_date >= $run_date
