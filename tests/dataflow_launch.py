"""Two halves of a Dataflow job, each in its own process, for tests/test_dataflow.py.

`python -m tests.dataflow_launch launch ARGS`: `pipeline.run ARGS` as a launcher, recording every
file it opens (Python's `open` audit event) while it builds the job; the list goes to
`$LAUNCH_OPENED`; every socket connection (or name lookup) is refused and listed there too.
A file read at graph-construction time is either carried in the job (the
recipe's JSON, embedded as values) or one the workers would not have.

`python -m tests.dataflow_launch load JOB_JSON LIBRARY`: what an SDK worker does first, in a
process that never built the graph: every pickled DoFn, CombineFn, side-input view and window
function of the translated pipeline is unpickled with the job's pickle library. Prints a JSON
count per kind; fails on the first payload that does not load.
"""
import base64
import collections
import json
import os
import sys

OPENED = []
NETWORK = []


def _hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes)):
        mode = args[1] if len(args) > 1 and isinstance(args[1], str) else "r"
        OPENED.append([os.path.abspath(os.fsdecode(args[0])), mode])
    elif event in ("socket.connect", "socket.getaddrinfo"):
        # Offline by construction: a launcher that needs the network to build the job fails here.
        NETWORK.append(repr(args[1] if event == "socket.connect" else args[:2]))
        raise ConnectionRefusedError(f"tests.dataflow_launch: no network for the launcher ({event} {NETWORK[-1]})")


def launch(argv):
    import logging

    sys.addaudithook(_hook)
    from pipeline import run

    logging.basicConfig(level=logging.INFO)  # as `python -m pipeline.run` (run.main) logs

    rc = run.run(argv)
    with open(os.environ["LAUNCH_OPENED"], "w", encoding="utf-8") as f:
        json.dump({"opened": OPENED, "network": NETWORK}, f)
    return rc


def load(job_file: str, library: str) -> dict:
    from apache_beam.internal import pickler
    from apache_beam.portability import python_urns
    from apache_beam.portability.api import beam_runner_api_pb2 as pb
    from google.protobuf import json_format

    pickler.set_library({"dill_unsafe": "dill"}.get(library, library))
    with open(job_file, encoding="utf-8") as f:
        proto = json_format.ParseDict(json.load(f)["pipeline"], pb.Pipeline())
    loaded = collections.Counter()

    def load_fn(kind, name, spec):
        if spec.urn in (python_urns.PICKLED_DOFN_INFO, python_urns.PICKLED_COMBINE_FN,
                        python_urns.PICKLED_VIEWFN, python_urns.PICKLED_WINDOWFN):
            try:
                pickler.loads(spec.payload)
            except Exception as e:
                raise SystemExit(f"{name}: its {kind} does not unpickle on a worker: {type(e).__name__}: {e}")
            loaded[kind] += 1

    for t in proto.components.transforms.values():
        if t.spec.urn == "beam:transform:pardo:v1":
            payload = pb.ParDoPayload.FromString(t.spec.payload)
            load_fn("dofn", t.unique_name, payload.do_fn)
            for tag, side in payload.side_inputs.items():
                load_fn("side_input_view", f"{t.unique_name}[{tag}]", side.view_fn)
                load_fn("side_input_window_mapping", f"{t.unique_name}[{tag}]", side.window_mapping_fn)
        elif t.spec.urn in ("beam:transform:combine_per_key:v1", "beam:transform:combine_grouped_values:v1",
                            "beam:transform:combine_globally:v1"):
            load_fn("combinefn", t.unique_name, pb.CombinePayload.FromString(t.spec.payload).combine_fn)
    for name, ws in proto.components.windowing_strategies.items():
        load_fn("windowfn", name, ws.window_fn)
    return dict(loaded)


if __name__ == "__main__":
    if sys.argv[1] == "launch":
        sys.exit(launch(sys.argv[2:]))
    print(json.dumps(load(sys.argv[2], sys.argv[3])))
