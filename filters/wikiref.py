"""LLaMA's Wikipedia-reference classifier: "is this page like the ones Wikipedia cites?"

- Positives: web pages whose URL appears inside a `<ref>…</ref>` of a Wikipedia article (matched
  on a normalised URL), fetched over HTTP (opt-in), or a user's file of cited-page texts.
- Negatives: random CommonCrawl pages, as many as there are positives (balanced classes).
  RedPajama v1 took both from cc_net's head and middle buckets, positives of >= 1,000 characters
  (the pipeline passes only such pages here).
- Model: fastText supervised, labels `__label__wiki` / `__label__cc`, one thread and a fixed seed
  so that the same training text gives the same model bytes; cross-fitted over folds, so that
  every labelled page is scored by a model that did not see it, which gives the held-out AUC.
- Decision (`decide`): the classifier is applied only when it had enough positives and its
  held-out AUC clears a floor; otherwise pages pass with `wikiref_applied: false` and the reason.
- Score: P(wiki) of the page (`wikiref_score`); pages below the threshold (RP1: 0.25) are dropped.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from common import atomic
from common.record import Document

POSITIVE = "__label__wiki"
NEGATIVE = "__label__cc"
DROP_REASON = "wikiref_below_threshold"

# <ref>…</ref> bodies; named self-closing refs (<ref name="x" />) repeat an earlier body and hold no URL.
_REF_BODY = re.compile(r"<ref(?:\s[^>]*?)?(?<!/)>(.*?)</ref\s*>", re.IGNORECASE | re.DOTALL)
# A URL runs until whitespace or a wikitext/HTML delimiter ("|" ends a template parameter, "]" a link).
_URL = re.compile(r"https?://[^\s|\[\]<>\"{}]+", re.IGNORECASE)
_TRAILING = ".,;:!?)'"
_ARCHIVED = re.compile(r"^https?://web\.archive\.org/web/[0-9]+[a-z_]*/(https?://.+)$", re.IGNORECASE)


def extract_ref_urls(wikitext: str) -> List[str]:
    """Every http(s) URL inside the `<ref>` tags of one page's raw wikitext, in order."""
    urls = []
    for body in _REF_BODY.findall(wikitext):
        for url in _URL.findall(body):
            url = url.rstrip(_TRAILING)
            # "''" (wikitext italics) may follow a bare URL directly.
            url = url.split("''", 1)[0]
            if url:
                urls.append(url)
    return urls


# A URL with nothing to decode, sort or drop: host and a path of characters `quote` keeps as they
# are. Most crawled URLs are like this; they skip urlsplit and the percent round trip (same key).
_SIMPLE_URL = re.compile(r"(?i:https?)://([A-Za-z0-9.-]+)(/[A-Za-z0-9/:@!$&'()*+,;=._~-]*)?")


def normalize_url(url: str) -> Optional[str]:
    """A key under which the same page cited and crawled meet.

    Scheme dropped (http = https), host lowercased without "www." and default port, path
    percent-decoding unified and trailing "/" removed, fragment dropped, query parameters sorted.
    None for what is not an http(s) URL with a host.
    """
    url = url.strip()
    archived = _ARCHIVED.match(url)
    if archived:  # a Wayback Machine copy cites the page it archived
        url = archived.group(1)
    simple = _SIMPLE_URL.fullmatch(url)
    if simple:
        host = simple.group(1).lower().rstrip(".")
        if host.startswith("www."):
            host = host[4:]
        if host:
            path = simple.group(2) or ""
            if "//" in path:
                path = re.sub(r"/{2,}", "/", path)
            return host + path.rstrip("/")
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    try:
        port = parts.port
    except ValueError:
        return None
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~")
    path = re.sub(r"/{2,}", "/", path).rstrip("/")
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return host + path + ("?" + query if query else "")


TEXT_MODES = ("raw", "lowercase")


def classifier_text(text: str, max_chars: int = 20000, mode: str = "raw") -> str:
    """The text fastText sees, on one line (fastText reads one example a line).

    `raw` (RedPajama v1's `classify.py`/`create_corpus.py`): the page's lines joined by single
    spaces, nothing else changed, so fastText's own whitespace split makes the tokens (a no-break
    space stays inside its token, as there). `lowercase` (the `tutorial` preset): lowercased and
    every whitespace run made one space. Both are a couple of C-level passes: this runs on every
    page the buckets keep."""
    if mode == "raw":
        return " ".join(text[:max_chars].strip().splitlines())
    if mode == "lowercase":
        return " ".join(text[:max_chars].lower().split())
    raise ValueError(f"wikiref text mode must be one of {TEXT_MODES}, not {mode!r}")


# Used where a caller gives no value: RedPajama v1's `fasttext supervised` (its defaults) on raw text.
# The pipeline passes the recipe's `quality.wikiref.presets[settings]`.
TRAIN_DEFAULTS = {"text": "raw", "epoch": 5, "lr": 0.1, "word_ngrams": 1, "dim": 100, "min_count": 1,
                  "bucket": 2000000, "seed": 0, "max_chars": 20000}


def train_classifier(positives: Sequence[str], negatives: Sequence[str], out_path: str, params: dict) -> dict:
    """Train a fastText model on the texts (in the order given) and save it to `out_path`.

    Each training runs in a fresh Python process: the fastText build in use carries state from
    one training to the next within a process (a second training in the same process gives other
    bytes, sometimes NaN), while a first training is reproducible.
    """
    params = {**TRAIN_DEFAULTS, **params}
    if not positives or not negatives:
        raise ValueError(f"wikiref training needs both classes: {len(positives)} positives, {len(negatives)} negatives")
    max_chars = int(params["max_chars"])
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    fd, train_file = tempfile.mkstemp(prefix="wikiref-", suffix=".txt")
    part = atomic.temp_name(out_path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            # Interleaved classes: fastText's SGD sees both from the start.
            for i in range(max(len(positives), len(negatives))):
                if i < len(positives):
                    f.write(f"{POSITIVE} {classifier_text(positives[i], max_chars, params['text'])}\n")
                if i < len(negatives):
                    f.write(f"{NEGATIVE} {classifier_text(negatives[i], max_chars, params['text'])}\n")
        lr = float(params["lr"])
        for attempt in range(5):
            proc = subprocess.run(
                [sys.executable, "-m", "filters.fasttext_train", train_file, part,
                 json.dumps({**params, "lr": lr})],
                capture_output=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            if proc.returncode == 0:
                break
            err = proc.stderr.decode("utf-8", "replace")
            # fastText's SGD can diverge on a few dozen examples; a smaller step, the same every run.
            if "NaN" not in err or attempt == 4:
                raise RuntimeError(f"fastText training failed: {err[-1500:]}")
            lr /= 2
    except BaseException:
        if os.path.exists(part):
            os.remove(part)
        raise
    finally:
        os.unlink(train_file)
    atomic.replace(part, out_path)
    return {"positives": len(positives), "negatives": len(negatives), "lr": lr}


class WikirefScorer:
    """P(wiki) of a text under a trained model (load once per process: not picklable)."""

    def __init__(self, model_path: str, max_chars: int = 20000, text_mode: str = "raw"):
        import fasttext

        self.model = fasttext.load_model(model_path)
        self.max_chars = max_chars
        self.text_mode = text_mode

    def score(self, text: str) -> float:
        labels, probs = self.model.predict([classifier_text(text, self.max_chars, self.text_mode)], k=2)
        for label, prob in zip(labels[0], probs[0]):
            if label == POSITIVE:
                return round(min(1.0, float(prob)), 4)
        return 0.0


class WikirefFilter:
    """doc → doc with meta wikiref_score, or `wikiref_below_threshold`."""

    def __init__(self, model_path: str, threshold: float = 0.25, max_chars: int = 20000, text_mode: str = "raw"):
        self.scorer = WikirefScorer(model_path, max_chars, text_mode)
        self.threshold = threshold

    def __call__(self, doc: Document):
        score = self.scorer.score(doc.text)
        if score < self.threshold:
            return DROP_REASON
        return doc.with_meta(wikiref_score=score)


def fetch_cited_pages(urls: Iterable[str], *, rate_per_s: float = 1.0, retries: int = 3, backoff: float = 1.0,
                      timeout: float = 20.0, max_bytes: int = 5_000_000, session=None) -> Iterator[Tuple[str, Optional[str], str]]:
    """Fetch cited pages politely: at most `rate_per_s` requests a second, retries on 429/5xx and
    connection errors. Yields (url, plain text or None, status note) for each URL."""
    import requests
    from resiliparse.extract.html2text import extract_plain_text

    sess = session or requests.Session()
    interval = 1.0 / rate_per_s if rate_per_s > 0 else 0.0
    last = 0.0
    for url in urls:
        note = "no attempt"
        text = None
        for attempt in range(retries + 1):
            wait = last + interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            last = time.monotonic()
            try:
                resp = sess.get(url, timeout=timeout, headers={"User-Agent": "llamadata-wikiref/0.1"})
            except (requests.ConnectionError, requests.Timeout) as e:
                note = type(e).__name__
            else:
                if resp.status_code == 200:
                    body = resp.content[:max_bytes]
                    html = body.decode(resp.encoding or "utf-8", errors="replace")
                    text = extract_plain_text(html, main_content=True)
                    note = "ok"
                    break
                note = f"HTTP {resp.status_code}"
                if resp.status_code not in (429, 500, 502, 503, 504):
                    break
            if attempt < retries:
                time.sleep(backoff * (2 ** attempt))
        yield url, text, note


def auc(positive_scores: Sequence[float], negative_scores: Sequence[float]) -> Optional[float]:
    """Area under the ROC curve: P(score of a random positive > a random negative), ties count
    half (the Mann-Whitney U statistic over |P|·|N|). None without both classes."""
    if not positive_scores or not negative_scores:
        return None
    ranked = sorted([(s, 1) for s in positive_scores] + [(s, 0) for s in negative_scores])
    rank_sum = 0.0
    i = 0
    while i < len(ranked):  # average ranks over runs of equal scores
        j = i
        while j + 1 < len(ranked) and ranked[j + 1][0] == ranked[i][0]:
            j += 1
        mean_rank = (i + j) / 2 + 1
        rank_sum += mean_rank * sum(label for _, label in ranked[i:j + 1])
        i = j + 1
    n_pos, n_neg = len(positive_scores), len(negative_scores)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def balanced(positives: Sequence, negatives: Sequence, max_per_class: int) -> Tuple[list, list]:
    """As many negatives as positives (both capped), each list in the order given."""
    n = min(len(positives), len(negatives), max_per_class)
    return list(positives[:n]), list(negatives[:n])


def cross_fit(positives: Sequence[Tuple[int, str]], negatives: Sequence[Tuple[int, str]], folds: int,
              params: dict, work_dir: str) -> Tuple[List[str], List[float], List[float], List[dict]]:
    """Train one model per fold on the examples of the other folds, score the held-out ones.

    `positives`/`negatives`: (fold, text). Returns (model paths by fold, held-out positive scores,
    held-out negative scores, per-fold training counts). With one fold there is nothing held
    out: the model trains on everything and no score is returned.
    """
    paths, pos_scores, neg_scores, counts = [], [], [], []
    for fold in range(folds):
        train_pos = [t for f, t in positives if folds == 1 or f != fold]
        train_neg = [t for f, t in negatives if folds == 1 or f != fold]
        if not train_pos or not train_neg:
            raise ValueError(f"fold {fold}: no training examples of one class")
        path = os.path.join(work_dir, f"wikiref.fold{fold}.bin")
        counts.append({"fold": fold, **train_classifier(train_pos, train_neg, path, params)})
        paths.append(path)
        if folds > 1:
            scorer = WikirefScorer(path, int(params.get("max_chars", 20000)), params.get("text", "raw"))
            pos_scores += [scorer.score(t) for f, t in positives if f == fold]
            neg_scores += [scorer.score(t) for f, t in negatives if f == fold]
    return paths, pos_scores, neg_scores, counts


def decide(n_positives: int, held_out_auc: Optional[float], min_positives: int, min_auc: float) -> Tuple[bool, str]:
    """(apply the classifier?, the reason in one line)."""
    if n_positives < min_positives:
        return False, (f"not applied: {n_positives} cited pages found (< min_positives={min_positives}); "
                       "give more <ref> URLs among the crawl, fetch_cited, cited_texts or a trained model")
    if held_out_auc is None:
        return False, "not applied: no held-out AUC (folds < 2)"
    if held_out_auc < min_auc:
        return False, f"not applied: held-out AUC {held_out_auc:.3f} < min_auc={min_auc}"
    return True, f"applied: {n_positives} cited pages, held-out AUC {held_out_auc:.3f}"
