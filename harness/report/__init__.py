"""Reports people read (``index.html``) and tools read (``results.json``), redacted by default."""

from harness.report.reconcile import Reconciliation, ReconciliationRow, reconcile
from harness.report.redact import redact_suite
from harness.report.writer import ReportPaths, default_report_dir, render_html, write_report

__all__ = [
    "Reconciliation",
    "ReconciliationRow",
    "ReportPaths",
    "default_report_dir",
    "reconcile",
    "redact_suite",
    "render_html",
    "write_report",
]
