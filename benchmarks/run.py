"""eventpath benchmarks, run by hand: ``python benchmarks/run.py [--quick] [--only NAME,...] [--jobs N]``.

Prints measurements beside their targets, measured side by side in one run; it never asserts a timing, and
a target not met is printed as measured. Sections: overhead, decode, memory, stress, suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the hostile stress site lives in tests/robustness

from harness.browser.journey import scenario_journey  # noqa: E402
from harness.browser.launcher import BASE_ARGS, find_browser  # noqa: E402
from harness.browser.visit import VisitPlan  # noqa: E402
from harness.decoders.registry import DecoderRegistry  # noqa: E402
from harness.models import CapturedRequest  # noqa: E402
from harness.options import RunOptions  # noqa: E402
from harness.runner import KeepArtifacts  # noqa: E402
from harness.scenario import Scenario  # noqa: E402
from harness.scenario_loader import load_scenario  # noqa: E402

SCENARIO_FILE = REPO / "scenarios" / "demo-purchase.scenario.yaml"
FIXTURES = REPO / "tests" / "decoders" / "fixtures"
SECTIONS = ("overhead", "decode", "memory", "stress", "suite")


@dataclass
class Sizes:
    overhead_runs: int
    decode_seconds: float
    stress_hits: int
    suite_runs: int
    memory_runs: int


FULL = Sizes(overhead_runs=5, decode_seconds=3.0, stress_hits=5_000, suite_runs=50, memory_runs=40)
QUICK = Sizes(overhead_runs=2, decode_seconds=0.5, stress_hits=1_000, suite_runs=10, memory_runs=6)


def line(name: str, measured: str, target: str = "") -> None:
    verdict = f"   (target {target})" if target else ""
    print(f"  {name:<38} {measured}{verdict}", flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- memory: the process tree --------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:  # the process ended while we looked
        return kids
    for task in tasks:
        try:
            kids += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return kids


def process_tree(root: int) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += _children(pid)
    return found


def _memory_kb(pid: int) -> int:
    """PSS (shared pages split fairly between processes) where the kernel gives it, else RSS."""
    for name, key in (("smaps_rollup", "Pss:"), ("status", "VmRSS:")):
        try:
            for row in Path(f"/proc/{pid}/{name}").read_text().splitlines():
                if row.startswith(key):
                    return int(row.split()[1])
        except OSError:
            continue
    return 0


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime + stime


class Sampler:
    """Calls ``sample`` every ``interval_s`` while a block runs, and once more at its end, from a process of
    its own: a sampling thread in this process would take the GIL from the proxy and the driver's loop and
    slow the very runs it measures."""

    interval_s = 0.1

    def __init__(self) -> None:
        self.root = os.getpid()
        self._conn: Connection | None = None

    def sample(self) -> None:
        raise NotImplementedError

    def state(self) -> dict[str, object]:
        """What the sampling process hands back when asked (its attributes, as they are now)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def ask(self) -> dict[str, object]:
        """Sample now, in the sampling process, and take its state."""
        assert self._conn is not None, "only inside sampling()"
        self._conn.send("now")
        return self._conn.recv()  # type: ignore[no-any-return]

    @contextmanager
    def sampling(self) -> Iterator[Self]:
        context = multiprocessing.get_context("spawn")  # no fork of a process with the proxy's threads
        ours, theirs = context.Pipe()
        process = context.Process(target=_sample_until_stopped, args=(self, theirs), daemon=True)
        process.start()
        self._conn = ours
        try:
            ours.recv()  # started: the first sample is taken
            yield self
        finally:
            ours.send("stop")
            vars(self).update(ours.recv())
            process.join()
            self._conn = None


def _sample_until_stopped(sampler: Sampler, conn: Connection) -> None:
    sampler.sample()
    conn.send(sampler.state())
    while True:
        if conn.poll(sampler.interval_s):
            message = conn.recv()
            sampler.sample()
            conn.send(sampler.state())
            if message == "stop":
                return
        else:
            sampler.sample()


class CpuSampler(Sampler):
    """CPU seconds used by the process tree (Python, drivers, every Chromium process). Sampled, because
    Chromium's renderers are short-lived and re-parented away from the tree, so a reading at the end would
    miss them; each process counts with the last value seen (at most one interval lost per process)."""

    interval_s = 0.05

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[int, int] = {}
        self.kinds: dict[int, str] = {}

    def sample(self) -> None:
        for pid in process_tree(self.root):
            if self.kinds.get(pid, "other") == "other":  # asked again: a process just forked has no cmdline yet
                self.kinds[pid] = _process_kind(pid, self.root)
            if self.kinds[pid] == "sampler":
                continue
            ticks = _cpu_ticks(pid)
            if ticks is not None:
                self.seen[pid] = max(ticks, self.seen.get(pid, 0))

    def seconds(self) -> float:
        return sum(self.by_kind().values())

    def by_kind(self) -> Counter[str]:
        """CPU seconds so far of Python, the Playwright driver and Chromium."""
        state = self.ask()
        seen, kinds = state["seen"], state["kinds"]
        assert isinstance(seen, dict) and isinstance(kinds, dict)
        split: Counter[str] = Counter()
        for pid, ticks in seen.items():
            split[kinds.get(pid, "other")] += ticks / _TICKS
        return split


def _process_kind(pid: int, root: int) -> str:
    """Python (the measured process), the Playwright driver, or Chromium (any of its processes)."""
    if pid == root:
        return "Python"
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "other"
    if b"from multiprocessing." in command:
        return "sampler"  # this script's own sampling process and its helper: not part of what is measured
    program = command.split(b"\0")[0].decode(errors="replace")
    if program == "/proc/self/exe" and b"--type=" in command:
        return "Chromium"  # a helper the headless shell started by re-executing itself (network service)
    name = Path(program.split(" ")[0]).name  # Chromium's helpers rewrite argv into one spaced string
    if "chrom" in name:
        return "Chromium"
    return "Playwright driver" if name == "node" else "other"


def foreign_browsers() -> int:
    """Chromium processes running outside this process tree. PSS splits shared pages among every process
    that maps them, so stray browsers (a test run's leftovers) make this tree's PSS look smaller."""
    root = os.getpid()
    ours = set(process_tree(root))
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) not in ours and _process_kind(int(entry.name), root) == "Chromium":
            count += 1
    return count


class MemorySampler(Sampler):
    """The peak memory of the process tree while a block runs, and what each kind of process held then."""

    def __init__(self) -> None:
        super().__init__()
        self.peak_mb = 0.0
        self.peak_by_kind: dict[str, float] = {}

    def sample(self) -> None:
        by_kind: dict[str, float] = {}
        for pid in process_tree(self.root):
            if (kind := _process_kind(pid, self.root)) != "sampler":
                by_kind[kind] = by_kind.get(kind, 0.0) + _memory_kb(pid) / 1024
        total = sum(by_kind.values())
        if total > self.peak_mb:
            self.peak_mb, self.peak_by_kind = total, by_kind


# --- overhead: bare Playwright vs eventpath on the demo purchase ----------------------------------------


def direct_url(url: str, port: int) -> str:
    """The scenario's https ad URL as a browser resolving the demo names itself reaches it."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="http", netloc=f"{parts.hostname}:{port}"))


_LOAD_MS = """() => { const n = performance.getEntriesByType('navigation')[0];
  return n ? n.loadEventStart - (n.activationStart || 0) : null; }"""


async def bare_run(browser, scenario: Scenario, url: str, device: dict) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """A naive harness: no proxy, wait for networkidle after the journey to be sure the hits are out."""
    began = time.perf_counter()
    context = await browser.new_context(**device)
    try:
        page = await context.new_page()
        await page.goto(url, wait_until="load")
        landing_ms = await page.evaluate(_LOAD_MS)
        await scenario_journey(scenario.steps, "bench", 15_000)(page, [])
        await page.wait_for_load_state("networkidle")
    finally:
        await context.close()
    return time.perf_counter() - began, landing_ms or float("nan")


def bench_overhead(sizes: Sizes) -> None:
    from playwright.async_api import async_playwright

    from harness.demo.server import DemoShop
    from harness.engine import Harness

    scenario = load_scenario(SCENARIO_FILE)
    device_name = scenario.devices[0]
    loop = asyncio.new_event_loop()
    bare: list[tuple[float, float]] = []
    ours: list[tuple[float, float]] = []
    bare_cpu: list[float] = []  # CPU seconds of the whole process tree (Python, drivers, every Chromium process)
    ours_cpu: list[float] = []
    with (
        DemoShop() as shop,
        Harness(RunOptions(resolve=shop.host_mappings())) as harness,
        CpuSampler().sampling() as cpu,
    ):
        playwright = loop.run_until_complete(async_playwright().start())
        browser = loop.run_until_complete(
            playwright.chromium.launch(
                executable_path=find_browser(),
                # Every name to this machine: the shop answers, a tag hit fails at once (port 443 is
                # closed) instead of waiting on a DNS lookup that cannot succeed offline.
                args=[*BASE_ARGS, "--host-resolver-rules=MAP * 127.0.0.1"],
            )
        )
        device = {k: v for k, v in playwright.devices[device_name].items() if k != "default_browser_type"}
        try:
            for _ in range(sizes.overhead_runs):  # interleaved, so drift hits both sides alike
                url = scenario.ad_click.build_url()
                cpu_before = cpu.seconds()
                bare.append(loop.run_until_complete(bare_run(browser, scenario, direct_url(url, shop.port), device)))
                bare_cpu.append(cpu.seconds() - cpu_before)
                journey = scenario_journey(scenario.steps, "bench", harness.options.navigation_timeout_ms)
                began, cpu_before = time.perf_counter(), cpu.seconds()
                result = harness.visit(url, device=device_name, plan=VisitPlan(journey=journey))
                metrics = result.capture.metrics
                ours.append((time.perf_counter() - began, metrics.load_ms if metrics and metrics.load_ms else float("nan")))
                ours_cpu.append(cpu.seconds() - cpu_before)
                if result.capture.error:
                    print(f"  ! eventpath run error: {result.capture.error}")
        finally:
            loop.run_until_complete(browser.close())
            loop.run_until_complete(playwright.stop())
            loop.close()
    bare_run_s, ours_run_s = median([b[0] for b in bare]), median([o[0] for o in ours])
    bare_load, ours_load = median([b[1] for b in bare]), median([o[1] for o in ours])
    print(f"overhead: demo purchase journey on {device_name}, N={sizes.overhead_runs} each, interleaved, medians")
    line("bare Playwright whole run", f"{bare_run_s:.2f} s")
    line("eventpath whole run", f"{ours_run_s:.2f} s")
    line("whole-run ratio eventpath/bare", f"{ours_run_s / bare_run_s:.2f}x", "<= 0.8x")
    line("landing load bare / eventpath", f"{bare_load:.0f} ms / {ours_load:.0f} ms")
    line("landing load ratio eventpath/bare", f"{ours_load / bare_load:.2f}x", "<= 1.4x")
    line("CPU per run bare / eventpath", f"{median(bare_cpu):.2f} s / {median(ours_cpu):.2f} s")
    line("CPU ratio eventpath/bare", f"{median(ours_cpu) / median(bare_cpu):.2f}x")


# --- decoding throughput ---------------------------------------------------------------------------------


def fixture_corpus() -> list[CapturedRequest]:
    """Every fixture's request, in each vendor's real wire format."""
    corpus: list[CapturedRequest] = []
    for number, path in enumerate(sorted(FIXTURES.glob("**/*.json"))):
        data = json.loads(path.read_text())
        request = data.get("request") if isinstance(data, dict) else None
        if not isinstance(request, dict) or "url" not in request:
            continue
        body = request.get("body") or ""
        corpus.append(
            CapturedRequest(
                id=f"fx{number}",
                seq=number,
                method=request.get("method", "GET"),
                url=request["url"],
                request_headers=[tuple(h) for h in request.get("headers", [])],
                body=body.encode() if isinstance(body, str) else json.dumps(body).encode(),
                started_at=0.0,
            )
        )
    return corpus


# Copies of the corpus with a cache buster in every URL, as live hits carry one: the registry reads a URL
# once per hit and keeps the last ~1,000 it read (harness.urls), and 40 copies are far more than that, so
# every hit is read as new. Host and parameter names repeat, as they do live.
NEW_URL_COPIES = 40


def with_cache_buster(request: CapturedRequest, copy: int) -> CapturedRequest:
    parts = urlsplit(request.url)
    query = f"{parts.query}&_bench={copy}" if parts.query else f"_bench={copy}"
    return request.model_copy(update={"id": f"{request.id}c{copy}", "url": urlunsplit(parts._replace(query=query))})


def events_per_second(registry: DecoderRegistry, passes: list[list[CapturedRequest]], seconds: float) -> float:
    events = 0
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        for corpus in passes:
            for request in corpus:
                events += len(registry.decode(request))
    return events / (time.perf_counter() - began)


def bench_decode(sizes: Sizes) -> None:
    registry = DecoderRegistry.default()
    corpus = fixture_corpus()
    copies = [[with_cache_buster(request, n) for request in corpus] for n in range(NEW_URL_COPIES)]
    # A buster must not change what a hit decodes to, or the two rates would measure different work.
    changed = sum(
        len(registry.decode(request)) != len(registry.decode(busted)) for request, busted in zip(corpus, copies[0], strict=True)
    )
    vendors = len({p.parent.name for p in FIXTURES.glob("**/*.json")})
    print(
        f"decode: {len(corpus)} fixture requests of {vendors} vendors, each URL new (a cache buster added) and "
        f"the same again, {sizes.decode_seconds:.1f} s each, interleaved"
    )
    new_urls: list[float] = []
    same_urls: list[float] = []
    for _ in range(3):  # interleaved, so drift hits both alike
        new_urls.append(events_per_second(registry, copies, sizes.decode_seconds / 3))
        same_urls.append(events_per_second(registry, [corpus], sizes.decode_seconds / 3))
    # The target is read on new URLs: a live hit's URL is never seen twice (a timestamp, a random ID).
    line("events decoded per second", f"{median(new_urls):,.0f}", ">= 50,000/s")
    line("  the same URLs again (parts cached)", f"{median(same_urls):,.0f}")
    if changed:
        line("! requests a cache buster decodes differently", f"{changed}")


# --- memory ---------------------------------------------------------------------------------------------


def bench_memory(sizes: Sizes) -> None:
    """A suite as one worker runs it (one browser, a fresh context per run, one run at a time), its report
    written, sampled while it runs: the runs it holds count too."""
    from harness.report import write_report
    from harness.runner import SuiteRunner, plan_runs

    scenario = load_scenario(SCENARIO_FILE)
    runs = plan_runs([(SCENARIO_FILE, scenario)] * sizes.memory_runs)
    sampler = MemorySampler()
    with tempfile.TemporaryDirectory(prefix="eventpath-bench-") as report_dir, sampler.sampling():
        suite = SuiteRunner(RunOptions(), report_dir=Path(report_dir), keep_artifacts="never").run(runs)
        write_report(suite, Path(report_dir), scenarios={scenario.name: scenario})
    source = "PSS" if Path(f"/proc/{os.getpid()}/smaps_rollup").exists() else "RSS"
    print(f"memory: peak of one worker's process tree (Python + Playwright driver + every Chromium process), {len(runs)} runs")
    line(f"peak per worker ({source})", f"{sampler.peak_mb:.0f} MB", "< 500 MB")
    ranked = sorted(sampler.peak_by_kind.items(), key=lambda pair: -pair[1])
    parts = ", ".join(f"{kind} {mb:.0f}" for kind, mb in ranked if mb >= 1)
    line("of which (MB)", parts)
    if strays := foreign_browsers():
        line("! other Chromium processes running", f"{strays}: they share pages with ours, so this PSS is too low")


# --- stress -----------------------------------------------------------------------------------------------


def bench_stress(sizes: Sizes) -> None:
    from playwright.async_api import Page

    from harness.engine import Harness
    from tests.robustness.site import HostileSite, mappings_for_site

    per_kind = sizes.stress_hits // 5
    sent: list[str] = []

    async def read_sent(page: Page, _records: list) -> None:  # type: ignore[type-arg]
        await page.wait_for_function("window.__done === true")
        sent.extend(await page.evaluate("window.__sent"))

    with HostileSite() as site, Harness(RunOptions(resolve=mappings_for_site(site), navigation_timeout_ms=60_000, capture_timeout_ms=30_000)) as harness:
        began = time.perf_counter()
        result = harness.visit(site.url(f"/stress?per_kind={per_kind}&unload=0&batch=10&pace=25"), journey=read_sent)
        elapsed = time.perf_counter() - began
    decoded = Counter(e.params.get("event_params", {}).get("hit") for e in result.events if e.vendor == "ga4")
    expected = Counter(sent)
    lost = sum((expected - decoded).values())
    duplicated = sum(n - 1 for hit, n in decoded.items() if n > 1 and hit in expected)
    print(f"stress: {sizes.stress_hits} hits (image, fetch, keepalive, sendBeacon, batched POST) in one page, {elapsed:.1f} s")
    line("sent (accepted by the browser)", f"{len(sent)}")
    line("captured tag requests", f"{len(result.capture.tag_hits)}")
    line("decoded events", f"{sum(decoded.values())}")
    line("lost / duplicated", f"{lost} / {duplicated}", "0 / 0")
    if result.capture.error:
        line("run error", result.capture.error)


# --- suite throughput -------------------------------------------------------------------------------------


def bench_suite(sizes: Sizes, jobs: int) -> None:
    # As `eventpath run -j N` runs a suite (report folder, report written): first with --keep-artifacts never
    # (the harness's own cost), then by default (every run traced, the trace kept on failure).
    for keep in ("never", "on-failure"):
        _bench_suite_once(sizes, jobs, keep)


def _bench_suite_once(sizes: Sizes, jobs: int, keep: KeepArtifacts) -> None:
    from harness.report import write_report
    from harness.runner import SuiteRunner, plan_runs

    scenario = load_scenario(SCENARIO_FILE)
    runs = plan_runs([(SCENARIO_FILE, scenario)] * sizes.suite_runs)
    with tempfile.TemporaryDirectory(prefix="eventpath-bench-") as report_dir:
        runner = SuiteRunner(RunOptions(), jobs=jobs, report_dir=Path(report_dir), keep_artifacts=keep)
        with CpuSampler().sampling() as sampler:
            began, cpu_before = time.perf_counter(), sampler.by_kind()
            suite = runner.run(runs)
            write_report(suite, Path(report_dir), scenarios={scenario.name: scenario})
            total, cpu_split = time.perf_counter() - began, sampler.by_kind()
            cpu_split.subtract(cpu_before)
            cpu = sum(cpu_split.values())
    page_s = [page_time(run.result.capture) for run in suite.runs]
    per_run_fixed = median([run.duration_s - p for run, p in zip(suite.runs, page_s, strict=True)])
    print(f"suite: {len(runs)} demo purchase runs, `eventpath run -j {jobs} --keep-artifacts {keep}`, {total:.1f} s")
    line("runs per second", f"{len(runs) / total:.2f}", f"50 runs < 60 s with -j 2, i.e. > {50 / 60:.2f}/s")
    line("time for 50 runs at this rate", f"{50 * total / len(runs):.0f} s")
    line("fixed cost per run (median)", f"{per_run_fixed * 1000:.0f} ms", "< 150 ms")
    cores = os.cpu_count() or 1
    line("CPU per run (whole process tree)", f"{cpu / len(runs):.2f} s")
    parts = ", ".join(f"{kind} {seconds / len(runs):.2f}" for kind, seconds in cpu_split.most_common() if seconds > 0.005)
    line("  of which (s per run)", parts)
    line(f"CPU-bound floor for 50 runs on {cores} cores", f"{50 * cpu / len(runs) / cores:.0f} s")
    if jobs <= 1:  # with parallel runs page times overlap and this sum means nothing
        line("suite cost (total - page time) / run", f"{(total - sum(page_s)) / len(runs) * 1000:.0f} ms")
    failed = [r for r in suite.runs if r.failures]
    if failed:
        line("runs with check failures", f"{len(failed)} (first: {failed[0].failures[0].title})")
    if keep == "never":
        bench_report_memory(suite, scenario)


def bench_report_memory(suite, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    """Python memory a suite holds, its runs as objects beside a RunList (the last few as objects, the
    rest packed), and what writing its report adds: run by run, about one run."""
    import tracemalloc

    from harness.report import write_report
    from harness.results import HOT_RUNS, ScenarioRun, SuiteResult

    text = suite.model_dump_json(round_trip=True)
    run_texts = [run.model_dump_json(round_trip=True) for run in suite.runs]
    tracemalloc.start()
    try:
        as_objects = [ScenarioRun.model_validate_json(run_text) for run_text in run_texts]
        objects = tracemalloc.get_traced_memory()[0]
        del as_objects
        tracemalloc.stop()
        tracemalloc.start()
        copy = SuiteResult.model_validate_json(text)  # the suite as the runner holds it, counted from here
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        with tempfile.TemporaryDirectory(prefix="eventpath-bench-") as report_dir:
            write_report(copy, Path(report_dir), scenarios={scenario.name: scenario})
        extra = tracemalloc.get_traced_memory()[1] - held
    finally:
        tracemalloc.stop()
    runs = len(copy.runs)
    print(f"report: written for the {runs} runs above (Python allocations, tracemalloc)")
    line("every run as objects", f"{objects / 1e6:.1f} MB ({objects / runs / 1e6:.2f} MB per run)")
    line(f"suite held (last {HOT_RUNS} as objects)", f"{held / 1e6:.1f} MB ({held / objects:.2f}x)")
    line("extra while writing its report", f"{extra / 1e6:.1f} MB ({extra / held:.2f}x the suite)", "about one run's")


def page_time(capture) -> float:  # type: ignore[no-untyped-def]
    """What the page itself took: from the start of the run until its last step ended or its last request
    (the purchase hits a thank-you page sends after it has rendered, the unload beacons) was answered."""
    ends = [s.ended_at for s in capture.steps if s.ended_at]
    ends += [r.ended_at or r.started_at for r in capture.requests if r.source == "browser"]
    return (max(ends) if ends else capture.finished_at) - capture.started_at


# --- main ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about a minute)")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections: {', '.join(SECTIONS)}")
    parser.add_argument("--jobs", type=int, default=2, help="parallel runs for the suite section, when supported")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {unknown[0]!r}: choose from {', '.join(SECTIONS)}")
    sizes = QUICK if args.quick else FULL
    actions: dict[str, Callable[[], None]] = {
        "overhead": lambda: bench_overhead(sizes),
        "decode": lambda: bench_decode(sizes),
        "memory": lambda: bench_memory(sizes),
        "stress": lambda: bench_stress(sizes),
        "suite": lambda: bench_suite(sizes, args.jobs),
    }
    began = time.perf_counter()
    machine_speed()
    for name in SECTIONS:
        if name in chosen:
            actions[name]()
    print(f"done in {time.perf_counter() - began:.0f} s")
    machine_speed()
    return 0


def machine_speed() -> None:
    """A fixed piece of pure-Python work, timed before and after: the absolute targets (runs per minute,
    events per second) move with the machine's speed, which on a shared host drifts within one session."""
    began = time.perf_counter()
    total = 0
    for i in range(5_000_000):
        total += i
    line("machine: 5M-step Python loop", f"{(time.perf_counter() - began) * 1000:.0f} ms")


if __name__ == "__main__":
    raise SystemExit(main())
