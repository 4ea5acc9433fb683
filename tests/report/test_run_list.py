"""A suite holds its runs in a RunList: the last few as objects, older ones packed, every one read back whole."""

from __future__ import annotations

import gc
import pickle
import random
import threading
import weakref

from harness.report import write_report
from harness.results import RunList, ScenarioRun, SuiteResult
from tests.report.conftest import BACKEND, checkout_capture, checkout_scenario, request, scenario_run


def runs(count: int, *, odd_last: bool = True) -> list[ScenarioRun]:
    """Distinct real runs (decoded from real-format hits); the last carries a header mitmproxy could not
    decode (a lone surrogate), which JSON cannot hold, unless ``odd_last`` is False."""
    made = []
    for number in range(count):
        extra = []
        if odd_last and number == count - 1:
            extra = [request(90, "https://shop.example/odd", at=0.0, headers=[("x-odd", "caf\udce9")])]
        run = scenario_run(checkout_capture(extra), checkout_scenario(), truth=BACKEND)
        made.append(run.model_copy(update={"device": f"device-{number}"}))
    return made


def test_every_run_is_read_back_as_it_was_handed_in_in_plan_order() -> None:
    made = runs(7)
    held = RunList(hot=2)
    for position in random.Random(7).sample(range(7), 7):  # parallel runs end in any order
        held.put(position, made[position])
    assert len(held) == 7
    assert [r.device for r in held] == [f"device-{n}" for n in range(7)]
    assert list(held) == made  # packed ones too, the lone surrogate included
    assert held[0] == made[0] and held[-1] == made[-1]
    assert held[2:4] == made[2:4]
    assert held == made and held != made[:6]


def test_runs_beyond_the_hot_few_are_not_kept_as_objects() -> None:
    held = RunList(hot=2)
    made = runs(5)
    first = weakref.ref(made[0])
    for run in made:
        held.append(run)
    del made, run
    gc.collect()
    assert first() is None, "the oldest run is held packed, not as its objects"
    assert held[0].device == "device-0"


def test_a_run_that_cannot_be_packed_is_kept_as_it_is() -> None:
    made = runs(3, odd_last=False)
    made[0].result.events[0].params["plugin_object"] = threading.Lock()  # a plug-in's, unpicklable
    held = RunList(made, hot=1)
    assert held[0] is made[0], "kept as an object, not lost"
    assert held[1] == made[1] and held[1] is not made[1], "the next one was packed"


def test_parallel_hand_ins_lose_no_run() -> None:
    made = runs(3)
    held = RunList(hot=3)

    def hand_in(worker: int) -> None:
        for position in range(worker, 60, 4):
            held.put(position, made[position % 3])

    threads = [threading.Thread(target=hand_in, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.device for r in held] == [f"device-{p % 3}" for p in range(60)]


def test_a_suite_with_packed_runs_validates_dumps_copies_and_reports_as_a_list_would(tmp_path) -> None:  # type: ignore[no-untyped-def]
    made = runs(4, odd_last=False)  # the writer's own fallback for surrogates is tested with the writer
    as_list = SuiteResult(started_at=0.0, finished_at=1.0, runs=made)
    packed = SuiteResult(started_at=0.0, finished_at=1.0, runs=RunList(made, hot=1))
    assert isinstance(as_list.runs, RunList)  # a list given is held the same way
    assert packed.model_dump_json(round_trip=True) == as_list.model_dump_json(round_trip=True)
    back = SuiteResult.model_validate_json(packed.model_dump_json(round_trip=True))
    assert [r.device for r in back.runs] == [r.device for r in made]
    assert pickle.loads(pickle.dumps(packed)) == packed
    assert packed.model_copy(deep=True).runs == made
    assert packed.summary == {"runs": 4, "passed": 0, "failed": 4}

    one = write_report(as_list, tmp_path / "list", redact=True)
    other = write_report(packed, tmp_path / "packed", redact=True)
    assert one.json.read_bytes() == other.json.read_bytes()
    assert one.html.read_bytes() == other.html.read_bytes()
    assert packed.runs == made, "writing the report changed no run"
