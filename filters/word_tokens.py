"""Words as spaCy's blank English tokenizer splits them: datatrove's `split_into_words` for English,
which its Gopher and FineWeb rules count (Gopher's alphabetic-token share, word lengths, stop words,
n-gram repetition; FineWeb's newlines per word; C4's sentences).

The procedure is spaCy's (its `Tokenizer`: documented at spacy.io/api/tokenizer and in
`tokenizer.pyx`); the rules are English's (`lang/punctuation.py`, `lang/en/punctuation.py`,
`lang/tokenizer_exceptions.py`, `lang/en/tokenizer_exceptions.py`), written here from their
definitions:

1. The text is cut at whitespace (`str.isspace`) into chunks; whitespace makes no token (datatrove
   strips spaCy's whitespace tokens away).
2. A chunk that is a special case (an exception: "don't" → "do", "n't"; "cannot" → "can", "not";
   "U.S."-like abbreviations; emoticons) becomes its pieces.
3. Otherwise affixes come off, repeatedly, from both ends (`_split`): a prefix (opening
   punctuation, quotes, currency, symbols, "§ % = — –", "+" before a non-digit, a run of dots) and
   a suffix (closing punctuation, quotes, symbols, "'s", "—", "–", a currency or unit after a
   digit, "." after a digit/lowercase letter/punctuation or two capitals, "+" after a digit);
   a special case or nothing left to strip stops it, and a special case met after one strip
   stops it at once.
4. What is left is a special case, a URL (one token: scheme, user, host with a top-level domain of
   2-63 lowercase letters or a public IPv4, port, path), or it is split at infixes: "..", "…",
   symbols, "+-*^" between digits, "." between a lowercase letter and a capital, "," between
   letters, a hyphen after a letter or digit before a letter, ":<>=/" after a letter or digit
   before a letter. So "Covid-19", "flask==1.0.3", "/tmp", "and/or" stay whole, "e-mail" does not.

5. spaCy's second pass (its `_special_matcher`): a special case that the affix rules cut apart
   ("z." in "z.B.", "):" in "word):") is glued back where its pieces meet inside one chunk.

Not reproduced: the character classes' exact extent (here: Unicode letters and categories; spaCy
lists scripts and symbol ranges of its Unicode version). On the 555 real pages of
tests/reference/dump_pages.py the token lists equal spaCy 3.8.18's on 554 (a Chinese page differs
in a run of fullwidth brackets and dashes), and the Gopher alpha-words decisions on all
(tests/test_gopher.py holds the figures).

Speed: chunks repeat (Zipf), so each distinct chunk is split once and remembered (a bounded
per-process table); a chunk of letters only that is no special case is its own token without a
look-up of the rules.
"""
from __future__ import annotations

import unicodedata
from itertools import chain
from typing import Dict, List, Tuple

import regex

# --- character classes ---------------------------------------------------------------------------
_ALPHA = r"\p{L}"
_LOWER = r"\p{Ll}\p{Lo}"          # letters of scripts without case count as both (spaCy: "uncased")
_UPPER = r"\p{Lu}\p{Lo}"
_PUNCT_CHARS = "…,:;!?¿؟¡()[]{}<>_#*&。？！，、；：～·।،۔؛٪"
_QUOTES = "'\"”“`‘´’‚,„»«「」『』（）〔〕【】《》〈〉〈〉⟦⟧"
_CURRENCY = ["US$", "C$", "A$"] + list("$£€¥฿₽﷼₴₠₡₢₣₤₥₦₧₨₩₪₫€₭₮₯₰₱₲₳₴₵₶₷₸₹₺₻₼₽₾₿")
_HYPHENS = ["---", "--", "——", "-", "–", "—", "~"]
_UNITS = ("km km² km³ m m² m³ dm dm² dm³ cm cm² cm³ mm mm² mm³ ha µm nm yd in ft kg g mg µg t lb oz m/s km/h kmh "
          "mph hPa Pa mbar mb MB kb KB gb GB tb TB T G M K %").split()
_SYMBOL = r"\p{So}"                # spaCy's "icons": dingbats, arrows, emoji …


def _chars(chars: str) -> str:
    return "".join(regex.escape(c) for c in dict.fromkeys(chars))


def _alts(items) -> str:
    return "|".join(regex.escape(i) for i in items)


# --- affixes and infixes -------------------------------------------------------------------------
# A prefix is the first alternative that matches at the start; a suffix is found by a search, so
# the one that starts leftmost (and reaches the end) wins, e.g. "..." before ".".
_PREFIX = regex.compile(
    rf"^(?:[§%=—–]|\+(?![0-9])|[{_chars(_PUNCT_CHARS)}]|\.\.+|[{_chars(_QUOTES)}]|{_alts(_CURRENCY)}|[{_SYMBOL}])")
_DOT_AFTER = rf"0-9{_LOWER}%²\-+{_chars(_PUNCT_CHARS)}|(?:){_chars(_QUOTES)}"
_SUFFIX = regex.compile(
    rf"(?:[{_chars(_PUNCT_CHARS)}]|……|\.\.+|[{_chars(_QUOTES)}]|[{_SYMBOL}]|'s|'S|’s|’S|—|–"
    rf"|(?<=[0-9])\+|(?<=°[FfCcKk])\.|(?<=[0-9])(?:{_alts(_CURRENCY)})|(?<=[0-9])(?:{_alts(_UNITS)})"
    rf"|(?<=[{_DOT_AFTER}])\.|(?<=[{_UPPER}][{_UPPER}])\.)$")
_INFIX = regex.compile(
    rf"\.\.+|…|[{_SYMBOL}]|(?<=[0-9])[+\-*^](?=[0-9-])|(?<=[{_LOWER}{_chars(_QUOTES)}])\.(?=[{_UPPER}{_chars(_QUOTES)}])"
    rf"|(?<=[{_ALPHA}]),(?=[{_ALPHA}])|(?<=[{_ALPHA}0-9])(?:{_alts(_HYPHENS)})(?=[{_ALPHA}])"
    rf"|(?<=[{_ALPHA}0-9])[:<>=/](?=[{_ALPHA}])")

# A URL or an e-mail-like address: optional scheme, optional user@, then a public dotted IPv4 or
# host names ending in a top-level domain of 2-63 lowercase letters, optional port and path.
_URL = regex.compile(
    r"(?:[\w+\-.]{2,}://)?(?:\S+(?::\S*)?@)?"
    r"(?:(?!(?:10|127)(?:\.\d{1,3}){3})(?!(?:169\.254|192\.168)(?:\.\d{1,3}){2})"
    r"(?!172\.(?:1[6-9]|2\d|3[01])(?:\.\d{1,3}){2})"
    r"(?:[1-9]\d?|1\d\d|2[01]\d|22[0-3])(?:\.(?:1?\d{1,2}|2[0-4]\d|25[0-5])){2}(?:\.(?:[1-9]\d?|1\d\d|2[0-4]\d|25[0-4]))"
    rf"|(?:(?:[A-Za-z0-9\u00a1-\uffff][A-Za-z0-9\u00a1-\uffff_-]{{0,62}})?[A-Za-z0-9\u00a1-\uffff]\.)+[{_LOWER}]{{2,63}})"
    r"(?::\d{2,5})?(?:[/?#]\S*)?")


# --- special cases -------------------------------------------------------------------------------
def _special_cases() -> Dict[str, Tuple[str, ...]]:
    """English's exceptions: chunk → its tokens (a chunk that is one token maps to itself)."""
    exc: Dict[str, Tuple[str, ...]] = {}

    def add(*pieces: str) -> None:
        exc["".join(pieces)] = pieces

    def cased(word: str):
        return (word, word.title())

    # pronoun and wh-word contractions, with and without the apostrophe
    forms = {"i": ("'m", "'ma", "'ll", "'ll've", "'d", "'d've", "'ve"),
             "you": ("'ll", "'ll've", "'d", "'d've", "'ve", "'re"), "we": ("'ll", "'ll've", "'d", "'d've", "'ve", "'re"),
             "they": ("'ll", "'ll've", "'d", "'d've", "'ve", "'re"),
             "he": ("'ll", "'ll've", "'d", "'d've", "'s"), "she": ("'ll", "'ll've", "'d", "'d've", "'s"),
             "it": ("'ll", "'ll've", "'d", "'d've", "'s")}
    for word in ("who", "what", "when", "where", "why", "how", "there"):
        forms[word] = ("'s", "'ll", "'ll've", "'re", "'ve", "'d", "'d've")
    forms["that"] = forms["this"] = ("'s", "'ll", "'ll've", "'d", "'d've")
    forms["these"] = forms["those"] = ("'ll", "'ll've", "'re", "'ve", "'d", "'d've")
    for word, endings in forms.items():
        for orth in cased(word):
            for ending in endings:
                parts = [p for p in ending.replace("'", " '").split(" ") if p]   # "'ll've" → "'ll", "'ve"
                if ending == "'ma":
                    parts = ["'m", "a"]
                add(orth, *parts)
                add(orth, *[p.lstrip("'") for p in parts])
    # "n't" after auxiliaries
    for verb in ("ca", "could", "do", "does", "did", "had", "may", "might", "must", "need", "ought", "sha", "should",
                 "wo", "would"):
        for orth in cased(verb):
            add(orth, "n't")
            add(orth, "nt")
            add(orth, "n't", "'ve")
            add(orth, "nt", "ve")
    for verb in ("could", "might", "must", "should", "would"):
        for orth in cased(verb):
            add(orth, "'ve")
            add(orth, "ve")
    for verb in ("ai", "are", "is", "was", "were", "have", "has", "dare"):
        for orth in cased(verb):
            add(orth, "n't")
            add(orth, "nt")
    for word in ("doin", "goin", "nothin", "nuthin", "ol", "somethin"):
        for orth in cased(word):
            add(orth)
            add(orth + "'")
    for word in ("em", "ll", "nuff"):
        add(word)
        add("'" + word)
    for h in range(1, 13):
        for period in ("a.m.", "am", "p.m.", "pm"):
            add(str(h), period)
    for pieces in (("y'", "all"), ("y", "all"), ("how", "'d", "'y"), ("How", "'d", "'y"), ("not", "'ve"), ("not", "ve"),
                   ("Not", "'ve"), ("Not", "ve"), ("can", "not"), ("Can", "not"), ("gon", "na"), ("Gon", "na"),
                   ("got", "ta"), ("Got", "ta"), ("let", "'s"), ("Let", "'s"), ("c'm", "on"), ("C'm", "on")):
        add(*pieces)
    whole = ("'S 's ‘S ‘s and/or w/o 're 'Cause 'cause 'cos 'Cos 'coz 'Coz 'cuz 'Cuz 'bout ma'am Ma'am o'clock "
             "O'clock lovin' Lovin' lovin Lovin havin' Havin' havin Havin doin' Doin' doin Doin goin' Goin' goin Goin "
             "Mt. Ak. Ala. Apr. Ariz. Ark. Aug. Calif. Colo. Conn. Dec. Del. Feb. Fla. Ga. Ia. Id. Ill. Ind. Jan. "
             "Jul. Jun. Kan. Kans. Ky. La. Mar. Mass. Mich. Minn. Miss. N.C. N.D. N.H. N.J. N.M. N.Y. Neb. Nebr. "
             "Nev. Nov. Oct. Okla. Ore. Pa. S.C. Sep. Sept. Tenn. Va. Wash. Wis. "
             "'d a.m. Adm. Bros. co. Co. Corp. D.C. Dr. e.g. E.g. E.G. Gen. Gov. i.e. I.e. I.E. Inc. Jr. Ltd. Md. "
             "Messrs. Mo. Mont. Mr. Mrs. Ms. p.m. Ph.D. Prof. Rep. Rev. Sen. St. vs. v.s.")
    for orth in whole.split():
        add(orth)
    for orth in ("Ill", "ill", "Its", "its", "Hell", "hell", "Shell", "shell", "Shed", "shed", "were", "Were", "Well",
                 "well", "Whore", "whore"):
        exc.pop(orth, None)   # words, not contractions
    # the language-independent ones
    for orth in ["'", '\\")', "<space>", "''", "C++", "ä.", "ö.", "ü."] + [c + "." for c in "abcdefghijklmnopqrstuvwxyz"]:
        add(orth)
    for orth in EMOTICONS.split():
        add(orth)
    for u in "cfkCFK":
        add("°", u, ".")
    # every one with a typographic apostrophe too
    for orth, pieces in list(exc.items()):
        if "'" in orth:
            exc.setdefault(orth.replace("'", "’"), tuple(p.replace("'", "’") for p in pieces))
    return exc


EMOTICONS = r"""
:) :-) :)) :-)) :))) :-))) (: (-: =) (= :] :-] [: [-: [= =] :o) (o: :} :-} 8) 8-) (-8 ;) ;-) (; (-; :( :-( :((
:-(( :((( :-((( ): )-: =( >:( :') :'-) :'( :'-( :/ :-/ =/ =| :| :-| ]= =[ :1 :P :-P :p :-p :O :-O :o :-o :0 :-0
:() >:o :* :-* :3 :-3 =3 :> :-> :X :-X :x :-x :D :-D ;D ;-D =D xD XD xDD XDD 8D 8-D ^_^ ^__^ ^___^ >.< >.> <.< ._.
;_; -_- -__- v.v V.V v_v V_V o_o o_O O_o O_O 0_o o_0 0_0 o.O O.o O.O o.o 0.0 o.0 0.o @_@ <3 <33 <333 </3 (^_^)
(-_-) (._.) (>_<) (*_*) (¬_¬) ಠ_ಠ ಠ︵ಠ (ಠ_ಠ) ¯\(ツ)/¯ (╯°□°）╯︵┻━┻ ><(((*>
"""
SPECIAL_CASES = _special_cases()


# --- the tokenizer -------------------------------------------------------------------------------
_SUFFIX_WINDOW = 6   # no suffix is longer, but a run of dots
# Closing characters that come off a word as a suffix whatever the letters before them (every
# punctuation and quote character but the dot, whose rule looks at the letters); when the letters
# left are no special case ("dont" is), they are one token (no URL: no dot).
_CLOSING = frozenset(_PUNCT_CHARS + _QUOTES) - {"."}


def _suffix_length(text: str) -> int:
    """The length of the suffix that `_SUFFIX.search` finds, searching only the last characters
    (a search tries every position): a match can start further left only as a run of dots, which
    then starts at the window's first character, and only then is the whole text searched."""
    start = len(text) - _SUFFIX_WINDOW
    if start < 0:
        start = 0
    m = _SUFFIX.search(text, start)   # lookbehinds still see the characters before `start`
    if m and start and m.start() == start and text[start] == ".":
        m = _SUFFIX.search(text)
    return m.end() - m.start() if m else 0


def _split(chunk: str, specials: Dict[str, Tuple[str, ...]]) -> Tuple[str, ...]:
    """One whitespace-free chunk → its tokens (steps 2-4 of the module docstring)."""
    special = specials.get(chunk)
    if special is not None:
        return special
    # The common shapes, as `_affixes` decides them (tests hold the two equal on real pages):
    word, last = chunk[:-1], chunk[-1]
    if word.isalpha() and word not in specials:
        if last in _CLOSING:                                          # "word," "word)"
            return word, last
        if last == "." and unicodedata.category(word[-1]) in ("Ll", "Lo"):   # "word." (not "A.")
            return word, last
    if chunk.isascii() and chunk.isdigit():                           # "2019"
        return (chunk,)
    return _affixes(chunk, specials)


def _affixes(chunk: str, specials: Dict[str, Tuple[str, ...]]) -> Tuple[str, ...]:
    prefixes: List[str] = []
    suffixes: List[str] = []
    rest = chunk
    last = -1
    while rest and len(rest) != last:
        if rest in specials:
            break
        last = len(rest)
        m = _PREFIX.search(rest)
        pre = m.end() if m else 0
        if pre and rest[pre:] in specials:
            prefixes.append(rest[:pre])
            rest = rest[pre:]
            break
        suf = _suffix_length(rest[pre:])
        if suf and rest[:-suf] in specials:
            suffixes.append(rest[-suf:])
            rest = rest[:-suf]
            break
        if pre and suf and pre + suf <= len(rest):
            prefixes.append(rest[:pre])
            suffixes.append(rest[-suf:])
            rest = rest[pre:-suf]
        elif pre:
            prefixes.append(rest[:pre])
            rest = rest[pre:]
        elif suf:
            suffixes.append(rest[-suf:])
            rest = rest[:-suf]
    middle: List[str] = []
    if rest:
        special = specials.get(rest)
        if special is not None:
            middle = list(special)
        elif "." in rest and _URL.fullmatch(rest):   # a URL holds a dot (its host's or its IPv4's)
            middle = [rest]
        else:
            start = 0
            for m in _INFIX.finditer(rest):
                a, b = m.span()
                if a == 0:
                    continue
                if a != start:
                    middle.append(rest[start:a])
                if a != b:
                    middle.append(rest[a:b])
                start = b
            if start < len(rest):
                middle.append(rest[start:])
    return tuple(prefixes + middle + suffixes[::-1])


def _glued_specials() -> Dict[str, List[Tuple[Tuple[str, ...], Tuple[str, ...]]]]:
    """Special cases that the affix rules would cut ("z." → "z", "."; "):" → ")", ":"), by their
    first piece: spaCy finds them again among a chunk's tokens and glues them (its second pass)."""
    out: Dict[str, list] = {}
    for orth, pieces in SPECIAL_CASES.items():
        plain = _split(orth, {})
        if len(plain) > 1:
            out.setdefault(plain[0], []).append((plain, pieces))
    for patterns in out.values():
        patterns.sort(key=lambda p: -len(p[0]))   # the longest first
    return out


def _glue(tokens: Tuple[str, ...]) -> Tuple[str, ...]:
    out: List[str] = []
    i = 0
    while i < len(tokens):
        for plain, pieces in _GLUED.get(tokens[i], ()):
            if tokens[i:i + len(plain)] == plain:
                out.extend(pieces)
                i += len(plain)
                break
        else:
            out.append(tokens[i])
            i += 1
    return tuple(out)


def split_chunk(chunk: str) -> Tuple[str, ...]:
    tokens = _split(chunk, SPECIAL_CASES)
    return _glue(tokens) if len(tokens) > 1 and not _GLUED.keys().isdisjoint(tokens) else tokens


_GLUED = _glued_specials()
_CHUNKS: Dict[str, Tuple[str, ...]] = {}
_CHUNKS_MAX = 200_000   # ~60 MB of chunks and their tokens per process (~300 bytes each), then afresh


def words(text: str) -> List[str]:
    """The text's tokens, punctuation included, as datatrove's English `split_into_words`."""
    return chunk_words(text.split())


def chunk_words(chunks: List[str]) -> List[str]:
    """`words` of a text already cut at whitespace (`text.split()`)."""
    found = list(map(_CHUNKS.get, chunks))   # the look-ups run in C; most chunks were met before
    if None in found:
        if len(_CHUNKS) >= _CHUNKS_MAX:
            _CHUNKS.clear()
        for i, tokens in enumerate(found):
            if tokens is None:
                chunk = chunks[i]
                tokens = (chunk,) if chunk.isalpha() and chunk not in SPECIAL_CASES else split_chunk(chunk)
                found[i] = _CHUNKS[chunk] = tokens
    return list(chain.from_iterable(found))
