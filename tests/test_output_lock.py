"""The `--output` folder (issue 22, 13 and 14; pipeline/output_lock.py): a second run into a folder a
run is using stops at once with one line, a killed run leaves nothing locked; an existing file, a
read-only place or a disk that fills up during the Parquet write is one line and exit 2, with no
partial shard left and the same command rerunning to the same bytes once there is room."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline import output_lock
from tests.conftest import BEAM_ARGS, ROOT, SHARED, output_digest
from tests.http_server import serve

BOOKS = f"{SHARED}/books/raw/*.txt.gz"


def _cmd(out, *args):
    return [sys.executable, "-m", "pipeline.run", *BEAM_ARGS, f"--output={out}", "--sources=books", "--stages=curate", *args]


def _env(**extra):
    return dict(os.environ, PYTHONPATH=str(ROOT), **extra)


def _drip(h):
    h.send_response(200)
    h.send_header("Content-Length", str(10 ** 6))
    h.end_headers()
    end = time.monotonic() + 120
    while time.monotonic() < end:
        h.wfile.write(b"x")
        time.sleep(0.5)


def test_a_second_run_into_a_busy_folder_stops_and_a_killed_run_leaves_it_free(tmp_path):
    out = tmp_path / "out"
    with serve({}, handlers={"/pg1.txt.gz": _drip}) as srv:
        first = subprocess.Popen(_cmd(out, f"--books_input={srv.base_url}/pg1.txt.gz"), cwd=ROOT,
                                 env=_env(TMPDIR=str(tmp_path)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 120
            while not any(n.startswith("llamadata-dl-") for n in os.listdir(tmp_path)):  # busy downloading
                assert first.poll() is None and time.monotonic() < deadline, first.stderr.read().decode()[-3000:]
                time.sleep(0.2)
            state = (out / "run_state.json").read_bytes()
            second = subprocess.run(_cmd(out), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
            assert second.returncode == 2
            [line] = second.stderr.strip().splitlines()
            assert line.startswith(f"pipeline.run: error: --output={out} is in use by another run (pid {first.pid} on ")
            assert "pipeline.run" in line and line.endswith("wait for it to end or give another --output")
            assert (out / "run_state.json").read_bytes() == state  # the first run's folder untouched
            first.send_signal(signal.SIGKILL)  # no cleanup of any kind: the kernel drops the lock
            first.wait(timeout=30)
        finally:
            if first.poll() is None:
                first.kill()
    assert (out / output_lock.LOCK_NAME).exists()  # the killed run's file is there, its lock is not
    third = subprocess.run(_cmd(out), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    assert third.returncode == 0, third.stderr[-3000:]
    assert list((out / "curated" / "books").glob("*.parquet")) and not (out / output_lock.LOCK_NAME).exists()


def test_an_existing_file_as_output_is_one_line(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("mine\n")
    proc = subprocess.run(_cmd(target), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and target.read_text() == "mine\n"
    assert proc.stderr.strip().splitlines() == [
        f"pipeline.run: error: --output={target} is an existing file, not a folder; give a folder path (it is created when missing)"]


def _namespace_ok() -> bool:
    """Mounting a tmpfs in a user+mount namespace of our own (no privileges needed where allowed)."""
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs $d"],
                           capture_output=True)
    return probe.returncode == 0


needs_namespace = pytest.mark.skipif(not _namespace_ok(), reason="no user+mount namespace here to mount a small tmpfs")


def _in_namespace(script: str, tmp_path: Path) -> str:
    proc = subprocess.run(["unshare", "-rm", "bash", "-c", script], cwd=ROOT, env=_env(), capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@needs_namespace
def test_a_read_only_output_is_one_line(tmp_path):
    mnt = tmp_path / "ro"
    mnt.mkdir()
    cmd = " ".join(f"'{c}'" for c in _cmd(mnt / "out"))
    stdout = _in_namespace(f"mount -t tmpfs -o ro,size=64k tmpfs {mnt} && {cmd} 2>{tmp_path}/err; echo rc=$?", tmp_path)
    assert "rc=2" in stdout
    assert (tmp_path / "err").read_text().strip().splitlines() == [
        f"pipeline.run: error: --output={mnt}/out: cannot write there (Read-only file system); choose a folder you can write to"]


def _digests(folder: Path) -> dict:
    return {str(p.relative_to(folder)): output_digest(p)
            for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in ("run.json", "report.html")}  # run records: they name the start time


@needs_namespace
def test_a_disk_full_during_the_parquet_write_is_one_line_and_the_rerun_is_identical(tmp_path):
    mnt, keep = tmp_path / "disk", tmp_path / "kept"
    mnt.mkdir()
    cmd = " ".join(f"'{c}'" for c in _cmd(mnt / "out", f"--books_input={BOOKS}"))
    stdout = _in_namespace(f"""
        set -e
        mount -t tmpfs -o size=64m tmpfs {mnt}
        {cmd} 2>/dev/null; cp -r {mnt}/out {keep}-reference; rm -rf {mnt}/out     # the run with room
        mount -o remount,size=200k {mnt}
        set +e; {cmd} 2>{tmp_path}/err; echo rc=$?; set -e
        find {mnt}/out -name '*.parquet*' | sed 's/^/left: /'
        mount -o remount,size=64m {mnt}
        {cmd} 2>/dev/null; cp -r {mnt}/out {keep}-rerun
    """, tmp_path)
    assert "rc=2" in stdout and "left:" not in stdout  # no partial shard
    assert (tmp_path / "err").read_text().strip().splitlines()[-1] == (
        f"pipeline.run: error: --output={mnt}/out: No space left on device while writing the run's outputs; nothing "
        f"half-written was kept: free space (or give another --output) and rerun the same command")
    assert "Traceback" not in (tmp_path / "err").read_text()
    reference, rerun = _digests(Path(f"{keep}-reference")), _digests(Path(f"{keep}-rerun"))
    assert any(k.endswith(".parquet") for k in reference) and rerun == reference
