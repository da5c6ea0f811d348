"""`python -m filters.fasttext_train TRAIN_FILE OUT_PATH PARAMS_JSON`: one fastText supervised
training, in a fresh process (see `filters.wikiref.train_classifier` for why). It imports fastText
and nothing of the project, so the process starts in a fraction of a second."""
from __future__ import annotations

import json
import sys


def main(argv) -> int:
    import fasttext

    train_file, out_path, raw = argv
    params = json.loads(raw)
    model = fasttext.train_supervised(
        input=train_file, epoch=int(params["epoch"]), lr=float(params["lr"]),
        wordNgrams=int(params["word_ngrams"]), dim=int(params["dim"]), minCount=int(params["min_count"]),
        bucket=int(params["bucket"]), loss="softmax", thread=1, seed=int(params["seed"]), verbose=0,
    )
    model.save_model(out_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
