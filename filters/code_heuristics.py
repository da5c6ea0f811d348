"""GitHub file quality rules (RedPajama rp_v1's thresholds; the LLaMA paper published none).

`ExtensionWhitelist(extensions)(path)`: the file's lowercased extension (or whole name, e.g.
`Dockerfile`) is in the whitelist (RP1: 66 entries).
`CodeQuality().reason(text)` keeps a file (None), or names the first rule it breaks:
- `max_line_length`: the longest line has more than `max_line_length` characters (RP1: 1000);
- `mean_line_length`: characters (newlines included) per line above `max_mean_line_length`
  (RP1: 100, measured as RP1 does: len(text) / number of lines);
- `alnum_fraction`: alphanumeric characters / all characters below `min_alnum_fraction` (RP1: 0.25);
- `alpha_per_token`: alphabetic characters / tokens below `min_alpha_per_token` (RP1: 1.5). RP1
  counted tokenizer tokens; here a token is a run of word characters or a run of punctuation
  (no model needed before the tokenizer exists), which gives similar ratios on code.
The plain function `code_stats(text)` computes the four measures once.
"""
from __future__ import annotations

import posixpath
import re
from typing import Iterable, NamedTuple, Optional

# File extension → language written into meta (also the default whitelist's languages).
LANGUAGES = {
    ".c": "C", ".h": "C", ".cc": "C++", ".cpp": "C++", ".cxx": "C++", ".hpp": "C++", ".hh": "C++",
    ".hxx": "C++", ".c++": "C++", ".h++": "C++", ".cs": "C#", ".java": "Java", ".kt": "Kotlin",
    ".scala": "Scala", ".go": "Go", ".rs": "Rust", ".py": "Python", ".pyx": "Cython", ".rb": "Ruby",
    ".php": "PHP", ".pl": "Perl", ".pm": "Perl", ".lua": "Lua", ".r": "R", ".jl": "Julia",
    ".hs": "Haskell", ".ml": "OCaml", ".erl": "Erlang", ".ex": "Elixir", ".exs": "Elixir",
    ".clj": "Clojure", ".lisp": "Lisp", ".el": "Emacs Lisp", ".swift": "Swift", ".m": "Objective-C",
    ".mm": "Objective-C++", ".dart": "Dart", ".f": "Fortran", ".f90": "Fortran", ".f95": "Fortran",
    ".js": "JavaScript", ".jsx": "JavaScript", ".ts": "TypeScript", ".tsx": "TypeScript",
    ".vue": "Vue", ".html": "HTML", ".htm": "HTML", ".css": "CSS", ".scss": "SCSS", ".less": "Less",
    ".xml": "XML", ".json": "JSON", ".yml": "YAML", ".yaml": "YAML", ".toml": "TOML", ".sql": "SQL",
    ".sh": "Shell", ".bash": "Shell", ".zsh": "Shell", ".bat": "Batchfile", ".ps1": "PowerShell",
    ".md": "Markdown", ".tex": "TeX", ".asm": "Assembly", ".s": "Assembly", ".vb": "Visual Basic",
    ".cmake": "CMake", ".rst": "reStructuredText", ".smali": "Smali", ".fpp": "Fortran", ".proto": "Protocol Buffer", ".groovy": "Groovy", ".v": "Verilog",
    ".vhd": "VHDL", "dockerfile": "Dockerfile", "makefile": "Makefile", "cmakelists.txt": "CMake",
}


def language_of(path: str) -> Optional[str]:
    name = posixpath.basename(path).lower()
    if name in LANGUAGES:
        return LANGUAGES[name]
    return LANGUAGES.get(posixpath.splitext(name)[1])


def extension_key(path: str) -> str:
    """What the whitelist is matched against: the lowercased extension, or the whole name when
    the name itself is the type (Dockerfile, Makefile) or there is no extension."""
    name = posixpath.basename(path).lower()
    ext = posixpath.splitext(name)[1]
    return ext if ext else name


class CodeStats(NamedTuple):
    max_line_length: int
    mean_line_length: float
    alnum_fraction: float
    alpha_per_token: float


_TOKEN = re.compile(r"\w+|[^\w\s]+")


def code_stats(text: str) -> CodeStats:
    lines = text.splitlines() or [""]
    lengths = [len(line) for line in lines]
    n = len(text)
    alnum = sum(1 for ch in text if ch.isalnum())
    alpha = sum(1 for ch in text if ch.isalpha())
    tokens = sum(1 for _ in _TOKEN.finditer(text))
    return CodeStats(
        max_line_length=max(lengths),
        mean_line_length=n / len(lengths),
        alnum_fraction=alnum / n if n else 0.0,
        alpha_per_token=alpha / tokens if tokens else 0.0,
    )


class CodeQuality:
    """text → None (keep) or the drop reason, with RP1's thresholds as defaults."""

    def __init__(
        self,
        max_line_length: int = 1000,  # longest line allowed, characters
        max_mean_line_length: float = 100,  # mean line length allowed, characters
        min_alnum_fraction: float = 0.25,  # alphanumeric share of all characters
        min_alpha_per_token: float = 1.5,  # alphabetic characters per token
    ):
        self.max_line_length = max_line_length
        self.max_mean_line_length = max_mean_line_length
        self.min_alnum_fraction = min_alnum_fraction
        self.min_alpha_per_token = min_alpha_per_token

    def reason(self, text: str) -> Optional[str]:
        s = code_stats(text)
        if s.max_line_length > self.max_line_length:
            return "max_line_length"
        if s.mean_line_length > self.max_mean_line_length:
            return "mean_line_length"
        if s.alnum_fraction < self.min_alnum_fraction:
            return "alnum_fraction"
        if s.alpha_per_token < self.min_alpha_per_token:
            return "alpha_per_token"
        return None


class ExtensionWhitelist:
    def __init__(self, extensions: Iterable[str]):
        self.keys = frozenset(e.lower() for e in extensions)

    def __call__(self, path: str) -> bool:
        name = posixpath.basename(path).lower()
        return name in self.keys or extension_key(path) in self.keys
