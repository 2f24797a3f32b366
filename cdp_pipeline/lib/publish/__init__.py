"""The publish layer: what happens to the finished build before analysts get it."""
