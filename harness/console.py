"""Plain-text explanations of results, for the terminal and for pytest's failure report."""

from __future__ import annotations

from harness.models import CheckFailure
from harness.results import ScenarioRun, SuiteResult


def explain_failure(failure: CheckFailure, number: int | None = None) -> str:
    head = f"{number}. " if number is not None else ""
    lines = [
        f"{head}{failure.title}",
        f"   root cause:    {failure.root_cause}",
        f"   fix direction: {failure.fix_direction}",
        f"   expected:      {failure.expected}",
        f"   seen:          {failure.seen}",
    ]
    for evidence in failure.evidence[:5]:
        lines.append(f"   evidence:      {evidence.summary}")
    if len(failure.evidence) > 5:
        lines.append(f"   (+{len(failure.evidence) - 5} more hits)")
    lines.append(f"   check:         {failure.check}")
    return "\n".join(lines)


def explain_run(run: ScenarioRun) -> str:
    """Everything QA needs to hand a failed run to the right person, and a line to reproduce it."""
    capture = run.result.capture
    lines = [f"{run.test_id}: {len(run.failures)} problem(s)", f"ad URL: {run.ad_url}"]
    hops = " -> ".join(f"{h.status or '---'} {h.host}" for h in capture.chain.hops)
    lines.append(f"chain:  {hops}")
    lines.append("")
    for number, failure in enumerate(run.failures, start=1):
        lines.append(explain_failure(failure, number))
    where = f" {run.file}" if run.file else ""
    lines += ["", f"reproduce: eventpath run{where} --device '{run.device}'"]
    return "\n".join(lines)


def summary_table(suite: SuiteResult) -> str:
    rows = [("scenario", "device", "result", "root causes")]
    passed = 0
    for run in suite.runs:  # one pass: a suite's runs are not all held at once (``RunList``)
        causes = ", ".join(sorted({f.root_cause for f in run.failures}))
        rows.append((run.scenario + (f" [{'+'.join(run.bugs)}]" if run.bugs else ""), run.device,
                     "pass" if run.passed else "FAIL", causes))
        passed += run.passed
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    out = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip() for r in rows]
    out.insert(1, "-" * max(len(line) for line in out))
    out.append(f"\n{len(suite.runs)} runs: {passed} passed, {len(suite.runs) - passed} failed")
    return "\n".join(out)
