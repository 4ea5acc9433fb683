"""Output files are written whole or not at all: a write that fails half way (here a real one, cut by the
process's file-size limit, as a full disk cuts it) leaves the previous version and no stray file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from harness.files import write_atomically

# Run in a child process: RLIMIT_FSIZE makes every write past 1,000 bytes fail with EFBIG (SIGXFSZ ignored).
_CUT_WRITE = """
import resource, signal, sys
from pathlib import Path
from harness.files import write_atomically
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1_000, 1_000))
try:
    write_atomically(Path(sys.argv[1]), "new line\\n" * 5_000)
except OSError as exc:
    print(exc.filename, exc.strerror)
    sys.exit(3)
"""


def test_a_write_cut_half_way_leaves_the_previous_file_and_no_stray(tmp_path: Path) -> None:
    baseline = tmp_path / "purchase.baseline.yaml"
    baseline.write_text("baseline_version: 1\nsections: {}\n", encoding="utf-8")
    before = baseline.read_bytes()
    done = subprocess.run([sys.executable, "-c", _CUT_WRITE, str(baseline)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert done.stdout.startswith(str(baseline)), "the error names the file being written"
    assert baseline.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [baseline.name], "no half-written temporary file is left"


def test_a_write_replaces_the_file_whole_and_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "durations.json"
    path.write_text("{}", encoding="utf-8")
    path.chmod(0o640)
    write_atomically(path, json.dumps({"a": 1.5}))
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": 1.5}
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    fresh = tmp_path / "results.json"
    write_atomically(fresh, b"[]")
    assert fresh.read_bytes() == b"[]" and stat.S_IMODE(fresh.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["durations.json", "results.json"]


def test_text_that_cannot_be_encoded_is_refused_or_replaced_as_asked(tmp_path: Path) -> None:
    path = tmp_path / "index.html"
    write_atomically(path, "ok \ud800", errors="replace")
    assert path.read_bytes() == b"ok ?"
    with pytest.raises(UnicodeEncodeError):
        write_atomically(tmp_path / "strict.html", "\ud800")
    assert not (tmp_path / "strict.html").exists() and len(os.listdir(tmp_path)) == 1


def test_a_file_written_piece_by_piece_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    """The report writes results.json and index.html run by run: a run that fails to render half way leaves
    the previous report's files as they were, and no stray piece."""
    from harness.files import writing_atomically

    target = tmp_path / "results.json"
    write_atomically(target, "previous")
    with pytest.raises(RuntimeError), writing_atomically(target) as write:
        write('{"runs": [')
        raise RuntimeError("a run could not be rendered")
    assert target.read_text() == "previous" and sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]
    with writing_atomically(target) as write:
        for piece in ("{", '"runs": ', b"[]", "}"):
            write(piece)
    assert json.loads(target.read_text()) == {"runs": []}
