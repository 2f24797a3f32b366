-- names.py's particles (von, af, de, …), as the variable the name macros of macros.sql read.
-- Set on each connection by register_udfs.
SET VARIABLE name_particles = $name_particles;
