"""SentencePiece tokenizer training, token shards and the mixture plan (see tokenizer/stages.py)."""
