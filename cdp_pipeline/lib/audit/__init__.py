"""The audit layer's privacy work (audit.suppression, audit.erasure_log): erasure requests,
the suppression list, erasure across every layer, the scans that prove it, and
right-of-access reports. Plain Python (no Dagster)."""

from cdp_pipeline.lib.audit.access import access_report, write_access_report
from cdp_pipeline.lib.audit.erase import erase_request, pending_requests, resolve_person, run_pending_erasures
from cdp_pipeline.lib.audit.requests import queue_erasure, read_requests
from cdp_pipeline.lib.audit.scan import scan_export_dir, scan_for_identifiers
from cdp_pipeline.lib.audit.suppression import is_suppressed, load_suppression_list
from cdp_pipeline.lib.audit.verify import ErasedIdentifiersRemain, assert_no_erased_identifiers, scan_erased

__all__ = [
    "ErasedIdentifiersRemain",
    "access_report",
    "assert_no_erased_identifiers",
    "erase_request",
    "is_suppressed",
    "load_suppression_list",
    "pending_requests",
    "queue_erasure",
    "read_requests",
    "resolve_person",
    "run_pending_erasures",
    "scan_erased",
    "scan_export_dir",
    "scan_for_identifiers",
    "write_access_report",
]
