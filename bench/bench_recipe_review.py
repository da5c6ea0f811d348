"""Measured effects of two recipe choices (docs/recipe.md, "Where the recipe and its references differ").

    .venv/bin/python bench/bench_recipe_review.py

1. GitHub's `alpha_per_token` rule: the project's token count (runs of word characters or of
punctuation, `filters/code_heuristics.py`) against a real subword tokenizer, on real code.
RedPajama v1 counted tokens with the Pythia (GPT-NeoX BPE) tokenizer, which is fetched from the
Hugging Face hub and is not available offline; the reference here is LLaMA's SentencePiece model
(`../shared/data/models/llama_tokenizer.model`), the tokenizer LLaMA itself used. Files: every
whitelisted file of the four PyPI sdists of GitHub projects in `../shared/data/github`. Prints the
two ratios' distributions and how many files each would drop at RP1's 1.5, and where they differ.

2. ArXiv appendices: LLaMA removes what precedes the first section and the bibliography; RedPajama
v1 also cut everything from `\appendix` on. Prints the share of each real paper's cleaned text
(`pipeline/sources/arxiv.decode_and_clean`) that lies after `\appendix`, which this project keeps.
"""
from __future__ import annotations

import json
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from bench import record  # noqa: E402
from filters.code_heuristics import ExtensionWhitelist, code_stats  # noqa: E402


def files():
    whitelist = ExtensionWhitelist(json.loads((ROOT / "pipeline" / "recipes" / "llama" / "github.json").read_text())["extensions"])
    for sdist in sorted((DATA / "github").glob("*.tar.gz")):
        with tarfile.open(sdist) as tar:
            for member in tar.getmembers():
                if member.isfile() and whitelist(member.name):
                    text = tar.extractfile(member).read().decode("utf-8", "replace")
                    if text.strip():
                        yield f"{sdist.name}:{member.name}", text


def main():
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(DATA / "models" / "llama_tokenizer.model"))
    threshold = 1.5
    rows = []
    for name, text in files():
        alpha = sum(ch.isalpha() for ch in text)
        ours = code_stats(text).alpha_per_token
        theirs = alpha / max(len(sp.encode(text)), 1)
        rows.append((name, ours, theirs))
    print("1. GitHub alpha_per_token: regex tokens vs LLaMA's SentencePiece tokens")
    report(rows, threshold, "all files")
    report([r for r in rows if "/unidecode/x" not in r[0]], threshold, "without Unidecode's 190 code-point tables")


SESSION = None


def report(rows, threshold, title):
    ours_drop = {n for n, o, _ in rows if o < threshold}
    sp_drop = {n for n, _, t in rows if t < threshold}
    ratio = sorted(o / t for _, o, t in rows if t)
    print(f"{title}: {len(rows)} whitelisted files of {len(list((DATA / 'github').glob('*.tar.gz')))} sdists")
    print(f"  alpha per token, median: regex tokens {sorted(o for _, o, _ in rows)[len(rows) // 2]:.2f}, "
          f"LLaMA SentencePiece {sorted(t for _, _, t in rows)[len(rows) // 2]:.2f}; "
          f"ratio regex/SentencePiece median {ratio[len(ratio) // 2]:.2f} (p10 {ratio[len(ratio) // 10]:.2f}, "
          f"p90 {ratio[9 * len(ratio) // 10]:.2f})")
    print(f"  dropped at {threshold}: regex {len(ours_drop)}, SentencePiece {len(sp_drop)}, both {len(ours_drop & sp_drop)}; "
          f"decisions differ on {len(ours_drop ^ sp_drop)} of {len(rows)} files")
    SESSION.figure(f"alpha {title}", f"GitHub `alpha_per_token` < {threshold}, {title} ({len(rows)} files): "
                   "dropped by the regex count / by SentencePiece / decisions differ; median ratio",
                   f"{len(ours_drop)} / {len(sp_drop)} / {len(ours_drop ^ sp_drop)}; {ratio[len(ratio) // 2]:.2f}")
    for name in sorted(ours_drop ^ sp_drop):
        o, t = next((o, t) for n, o, t in rows if n == name)
        print(f"    {name}: regex {o:.2f}, SentencePiece {t:.2f}")


def appendices():
    from pipeline import recipe
    from pipeline.sources import arxiv

    cfg = recipe.load()["arxiv"]
    read_cfg = arxiv.ReadConfig.from_recipe(cfg)
    print("2. ArXiv: share of the cleaned text after \\appendix (kept here, cut by RedPajama v1)")
    for path in sorted((DATA / "arxiv").glob("*.gz")):
        with open(path, "rb") as f:
            for unit in arxiv.read_input(str(path), f, read_cfg):
                if isinstance(unit, arxiv.EPrint):
                    text = arxiv.decode_and_clean(unit, cfg).doc.text
                    at = text.find("\\appendix")
                    share = (len(text) - at) / len(text) if at >= 0 else 0.0
                    print(f"  {path.name}: {len(text)} characters, {100 * share:.1f}% after \\appendix")
                    SESSION.figure(f"appendix {path.name}", f"ArXiv {path.name}: cleaned text after `\\appendix` "
                                   "(kept here, cut by RedPajama v1)", f"{100 * share:.1f}% of {len(text):,} characters")


if __name__ == "__main__":
    SESSION = record.Session("recipe_review")
    main()
    appendices()
    SESSION.write()  # counts and shares of fixed files: the same on every run
