-- A run date's holds are decided again whole on a rerun.
DELETE FROM audit.export_holds WHERE run_date = $run_date
