"""The publish layer: what happens to the finished build before analysts get it.

``warehouse_copy.publish_warehouse`` copies the build database over the published warehouse
atomically; ``contract_comments`` comments the tables other layers own; ``tables_md`` renders
docs/tables.md from every public table's COMMENTs (``python -m cdp_pipeline.lib.publish.write_tables_md``).
"""
