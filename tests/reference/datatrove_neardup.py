"""datatrove 0.10.1's MinHash near-dedup (FineWeb's: 5-grams, 14 buckets x 8 hashes; signature,
buckets, clusters, filter) on bench/neardup_corpus.py's corpus; prints the removed ids, one a line,
for bench/bench_neardup.py --datatrove_removed FILE to score beside its own runs. Not a test; in a
scratch venv:

    PYTHONPATH=. .venv/bin/python tests/reference/dump_neardup_corpus.py 50 /tmp/ndc
    /tmp/ref24/bin/python tests/reference/datatrove_neardup.py /tmp/ndc > /tmp/ndc/datatrove_removed.txt
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                              MinhashDedupFilter, MinhashDedupSignature)
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
from datatrove.utils.hashing import HashConfig
from datatrove.utils.text import TextNormConfig


def main(root: Path) -> None:
    # FineWeb's (datatrove examples/fineweb.py): 5-grams, 14 x 8, 64-bit SHA-1 hashes; but numbers
    # are not normalised: the corpus's later laps differ from the first by a number after every
    # word, which datatrove's default normalisation (digits → 0) would turn into copies of each other.
    config = MinhashConfig(hash_config=HashConfig(hash_fc="sha1", precision=64), num_buckets=14, hashes_per_bucket=8,
                           n_grams=5, norm_config=TextNormConfig(norm_numbers=False))
    work = root / "datatrove"
    reader = JsonlReader(str(root / "input"))
    steps = [
        [reader, MinhashDedupSignature(output_folder=str(work / "sigs"), config=config)],
        [MinhashDedupBuckets(input_folder=str(work / "sigs"), output_folder=str(work / "buckets"), config=config)],
        [MinhashDedupCluster(input_folder=str(work / "buckets"), output_folder=str(work / "remove_ids"), config=config)],
        [JsonlReader(str(root / "input")), MinhashDedupFilter(input_folder=str(work / "remove_ids"),
                                                              exclusion_writer=JsonlWriter(str(work / "removed"))),
         JsonlWriter(str(work / "kept"))],
    ]
    for i, pipeline in enumerate(steps):
        tasks = config.num_buckets if i == 1 else 1
        LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, logging_dir=str(work / f"logs{i}")).run()
    import gzip

    for path in sorted((work / "removed").glob("*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            for line in f:
                print(json.loads(line)["id"])


if __name__ == "__main__":
    main(Path(sys.argv[1]))
