"""Where a pipeline run's CPU goes, per DoFn of the project: a profile, not a benchmark figure.

    python bench/profile_dofns.py [pipeline.run arguments]   (DirectRunner, --direct_num_workers=1)

Runs `python -m pipeline.run` in this process with every DoFn and CombineFn method of the project's
modules (pipeline/, dedup/, filters/, common/) wrapped in a CPU-time clock (`time.process_time`);
a method's time excludes the time of the steps it calls through Beam (a fused downstream step runs
inside the upstream's `yield`), so the figures add up. At exit: the process CPU, the part inside the
project's DoFns, and each method's exclusive CPU seconds and calls (a generator's resumptions
count one each). What is left is start-up, graph construction, the runner's data plane (encoding,
buffering and decoding elements between fused stages) and the report. Children (KenLM and fastText
training) are not in it. Only the in-process runner is profiled: with several workers the DoFns run
in other processes.
"""
from __future__ import annotations

import atexit
import collections
import functools
import importlib
import inspect
import pkgutil
import runpy
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import apache_beam as beam  # noqa: E402

PACKAGES = ("pipeline", "pipeline.sources", "dedup", "filters", "common")
METHODS = ("setup", "start_bundle", "process", "finish_bundle", "create_accumulator", "add_input", "add_inputs",
           "merge_accumulators", "extract_output")

clock = time.process_time
exclusive: collections.Counter = collections.Counter()
calls: collections.Counter = collections.Counter()
_stack: list = []  # [name, start, CPU of the callees]


def _enter(name: str) -> None:
    _stack.append([name, clock(), 0.0])


def _leave() -> None:
    end = clock()
    name, start, inner = _stack.pop()
    exclusive[name] += end - start - inner
    calls[name] += 1
    if _stack:
        _stack[-1][2] += end - start


def _timed_generator(name: str, gen):
    it = iter(gen)
    while True:
        _enter(name)
        try:
            item = next(it)
        except StopIteration:
            _leave()
            return
        except BaseException:
            _leave()
            raise
        _leave()
        yield item  # the consumer's time (downstream steps) is outside the clock


def _wrap(cls, method: str) -> None:
    fn = cls.__dict__.get(method)
    if fn is None or not callable(fn):
        return
    name = f"{cls.__module__}.{cls.__name__}.{method}"

    @functools.wraps(fn)  # Beam reads the signature (side inputs, WindowParam) through __wrapped__
    def timed(*args, **kwargs):
        _enter(name)
        try:
            result = fn(*args, **kwargs)
        finally:
            _leave()
        return _timed_generator(name, result) if isinstance(result, types.GeneratorType) else result

    setattr(cls, method, timed)


def instrument() -> int:
    """Wrap every DoFn/CombineFn method of the project's modules; the number of classes wrapped."""
    for pkg in PACKAGES:
        for info in pkgutil.iter_modules(importlib.import_module(pkg).__path__):
            importlib.import_module(f"{pkg}.{info.name}")
    n = 0
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None) or ""
        if not path.startswith(str(ROOT)) or "/.venv/" in path:
            continue
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(cls, (beam.DoFn, beam.CombineFn)):
                for method in METHODS:
                    _wrap(cls, method)
                n += 1
    return n


def report(start: float, out=sys.stderr) -> None:
    total = clock() - start
    inside = sum(exclusive.values())
    print(f"process CPU {total:.2f} s; inside the project's DoFns {inside:.2f} s; elsewhere {total - inside:.2f} s",
          file=out)
    for name, seconds in exclusive.most_common(25):
        if seconds >= 0.005:
            print(f"{seconds:8.3f} s {calls[name]:9,d} calls  {name}", file=out)


def main() -> None:
    start = clock()
    instrument()
    atexit.register(report, start)
    sys.argv = ["pipeline.run", *sys.argv[1:]]
    runpy.run_module("pipeline.run", run_name="__main__")


if __name__ == "__main__":
    main()
