"""Plain LaTeX cleaning for arXiv e-prints (Lewkowycz et al. 2022, as LLaMA used it).

Steps, in the order `clean_eprint` runs them:
1. decode each `.tex` member: UTF-8 (BOM allowed), then only the fallbacks the recipe lists
   (`fallback_encodings`, default latin-1); a result with more than `max_control_fraction` control
   characters is not text (UTF-16, binary) and the member is undecodable;
2. comments removed: `%` to end of line unless escaped (`\\%` is kept); a line that was only a
   comment goes entirely; `comment` environments go too;
3. main file: the `.tex` member whose text (comments removed) has `\\documentclass` (or the
   LaTeX 2.09 `\\documentstyle`); several: the one with `\\begin{document}`, then the largest,
   then the smallest name — deterministic whatever the archive order;
4. `\\input{..}` / `\\include{..}` resolved recursively inside the archive only, relative to the main
   file's folder (as LaTeX does), `.tex` added when missing; a path that escapes the archive
   (`../`, absolute) is refused; missing, cyclic or too-deep inputs are left out; all counted;
5. the authors' macros (`\\newcommand`, `\\renewcommand`, `\\providecommand`, `\\def`, `\\gdef`;
   with arguments and an optional default for the first) removed from the text and expanded
   inline, repeatedly (nested macros) up to `max_macro_passes` passes; sectioning commands are
   never expanded (redefining `\\section` must not hide the section cut);
6. everything after `\\end{document}` and everything before the first sectioning command
   (chapter, part, section, subsection, subsubsection, paragraph, subparagraph — each its own
   alternative; a paper without one is dropped, as RedPajama does);
7. the bibliography removed (`thebibliography`/`references` environments, `\\bibliography`,
   `\\bibliographystyle`, `\\printbibliography`, `\\addbibresource`); appendices after it stay.
"""
from __future__ import annotations

import bisect
import posixpath
import re
import threading
from array import array
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

DEFAULT_SECTION_COMMANDS = ("chapter", "part", "section", "subsection", "subsubsection", "paragraph", "subparagraph")


class BudgetExceeded(Exception):
    """A paper asks for more than its budget: `reason` is the drop reason after `bad_input:`."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class _Work(threading.local):
    """Characters the brace scanner may still look at while cleaning the current paper: a hard,
    linear bound on the scans that unbalanced input makes repeat (e.g. `\\a{\\a{\\a{…` unclosed)."""
    left: Optional[int] = None


_WORK = _Work()


def _spend(n: int) -> None:
    if _WORK.left is not None:
        _WORK.left -= n
        if _WORK.left < 0:
            raise BudgetExceeded("latex_work_budget", "brace scanning over max_scan_per_char x the paper's size")

# ---------------------------------------------------------------- decoding


_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # C0 but tab, newlines, form feed; DEL; C1


def _control_fraction(text: str) -> float:
    if not text:
        return 0.0
    return sum(1 for _ in _CONTROL_CHARS.finditer(text)) / len(text)


def decode_tex(data: bytes, fallback_encodings: Sequence[str] = ("latin-1",), max_control_fraction: float = 0.01) -> Optional[Tuple[str, str]]:
    """(text, encoding used) or None when no allowed encoding gives text."""
    for encoding in ("utf-8-sig", *fallback_encodings):
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if _control_fraction(text) <= max_control_fraction:
            return text.replace("\r\n", "\n").replace("\r", "\n"), ("utf-8" if encoding == "utf-8-sig" else encoding)
    return None


# ---------------------------------------------------------------- comments

# A % preceded by an even number of backslashes (none included) starts a comment.
_COMMENT = re.compile(r"(?<!\\)(?:\\\\)*%")
_COMMENT_ENV = re.compile(r"\\begin\{comment\}.*?(?:\\end\{comment\}|\Z)", re.S)


def strip_comments(text: str) -> str:
    out: List[str] = []
    for line in text.split("\n"):
        if "%" in line:
            m = _COMMENT.search(line)
            if m:
                # keep the backslash pairs before the %, they are `\\` line breaks
                kept = line[: m.end() - 1].rstrip()
                if not kept.strip():
                    continue  # the whole line was a comment: it leaves no blank line behind
                line = kept
        out.append(line)
    return _COMMENT_ENV.sub("", "\n".join(out))


# ---------------------------------------------------------------- balanced groups


def _skip_ws(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] in " \t\n":
        pos += 1
    return pos


_BRACE_SPECIAL = re.compile(r"[\\{}]")
_BRACKET_SPECIAL = re.compile(r"[\\{}\[\]]")


_BRACE_TOKEN = re.compile(r"\\.|[{}]", re.S)  # an escape pair is one token: `\{` opens nothing
_TABLE_AFTER = 256  # a brace scan longer than this builds the text's match table for the next ones
_TABLE_MAX_OPENS = 2_000_000  # 8 bytes a "{": a text with more is left to the budgeted scans


class _Matches(threading.local):
    """The brace match table of the text being expanded: the positions of its "{" (ascending) and
    of the "}" closing each (-1: unclosed). Built once per text after a long scan, so that
    `\\a{\\a{\\a{…` (unclosed, or nested deep) costs a lookup per group instead of a scan to the
    end of the text for each."""
    text: Optional[str] = None
    opens: Optional[array] = None
    closes: Optional[array] = None


_MATCHES = _Matches()


def _brace_table(text: str) -> Tuple[array, array]:
    opens, closes, stack = array("i"), array("i"), array("i")
    for m in _BRACE_TOKEN.finditer(text):
        ch = m.group()
        if ch == "{":
            stack.append(len(opens))
            opens.append(m.start())
            closes.append(-1)
        elif ch == "}" and stack:
            closes[stack.pop()] = m.start()
    return opens, closes


def _lookup(text: str, pos: int) -> Optional[int]:
    """From the table: where the group at `pos` closes (-1: never); None when the table has no
    such "{" (none built for this text, or this "{" is escaped when the text is read from 0)."""
    if _MATCHES.text is not text:
        return None
    i = bisect.bisect_left(_MATCHES.opens, pos)
    if i < len(_MATCHES.opens) and _MATCHES.opens[i] == pos:
        return _MATCHES.closes[i]
    return None


def read_group(text: str, pos: int, open_ch: str = "{", close_ch: str = "}") -> Optional[Tuple[str, int]]:
    """The content of the balanced group opening at `pos` and the index after it, or None."""
    if pos >= len(text) or text[pos] != open_ch:
        return None
    if open_ch == "{":
        end = _lookup(text, pos)
        if end is not None:
            _spend((end if end >= 0 else len(text)) - pos)  # what the scan would have been charged
            return (text[pos + 1 : end], end + 1) if end >= 0 else None
        found = _scan_group(text, pos, open_ch, close_ch)
        scanned = (found[1] if found else len(text)) - pos
        if scanned > _TABLE_AFTER and _MATCHES.text is not text and text.count("{") <= _TABLE_MAX_OPENS:
            _MATCHES.opens, _MATCHES.closes = _brace_table(text)
            _MATCHES.text = text
        return found
    return _scan_group(text, pos, open_ch, close_ch)


def _scan_group(text: str, pos: int, open_ch: str, close_ch: str) -> Optional[Tuple[str, int]]:
    depth = 0
    i = pos
    n = len(text)
    special = _BRACKET_SPECIAL if open_ch == "[" else _BRACE_SPECIAL
    while i < n:
        m = special.search(text, i)  # jump over plain text in C: only these characters matter
        if m is None:
            i = n
            break
        i = m.start()
        ch = text[i]
        if ch == "\\":
            i += 2  # an escaped brace does not count
            continue
        if ch == "{" or (open_ch == "[" and ch == "["):
            depth += 1
        elif ch == "}" or (close_ch == "]" and ch == "]"):
            depth -= 1
            if depth == 0:
                _spend(i - pos)
                if ch != close_ch:
                    return None
                return text[pos + 1 : i], i + 1
            if depth < 0:
                _spend(i - pos)
                return None
        i += 1
    _spend(min(i, n) - pos)  # (a "\\" last jumps past the end)
    return None


def _read_argument(text: str, pos: int) -> Optional[Tuple[str, int]]:
    """One mandatory TeX argument: a brace group, a control sequence, or one character."""
    pos = _skip_ws(text, pos)
    if pos >= len(text):
        return None
    if text[pos] == "{":
        return read_group(text, pos)
    if text[pos] == "\\":
        m = _CONTROL.match(text, pos)
        return (text[pos : m.end()], m.end()) if m else None  # None: a lone "\\" ends the text
    if text[pos] in "}%":
        return None
    return text[pos], pos + 1


_CONTROL = re.compile(r"\\(?:[A-Za-z]+|.)", re.S)

# ---------------------------------------------------------------- inputs


_INPUT = re.compile(r"\\(input|include)(?![A-Za-z@])\s*(?:\{([^{}]*)\}|([^\s{}\\%]+))")


@dataclass
class InputStats:
    resolved: int = 0
    missing: int = 0
    refused: int = 0  # the path escapes the archive
    cyclic: int = 0
    too_deep: int = 0
    refused_paths: List[str] = field(default_factory=list)


def safe_archive_path(path: str) -> Optional[str]:
    """The normalised path inside the archive, or None when it would escape it."""
    path = path.replace("\\", "/").strip()
    if not path or path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        return None
    norm = posixpath.normpath(path)
    if norm == ".." or norm.startswith("../") or norm == ".":
        return None
    return norm


def resolve_inputs(main: str, files: Mapping[str, str], max_depth: int = 16, stats: Optional[InputStats] = None,
                   max_splices: Optional[int] = None, max_chars: Optional[int] = None) -> Tuple[str, InputStats]:
    """The main file's text with its inputs spliced in. `files`: archive path → comment-free text.

    A file may be input several times, so splicing can fan out (ten inputs a level, five levels:
    10^5 copies): over `max_splices` inputs or `max_chars` of spliced text raises `BudgetExceeded`."""
    stats = stats or InputStats()
    base = posixpath.dirname(main)

    def lookup(name: str) -> Tuple[Optional[str], str]:
        name = name.strip().strip('"')
        joined = safe_archive_path(posixpath.join(base, name) if base else name)
        if joined is None:
            return None, "refused"
        for candidate in (joined, joined + ".tex"):
            if candidate in files:
                return candidate, "ok"
        return None, "missing"

    def splice(path: str, stack: Tuple[str, ...]) -> str:
        text = files[path]

        def replace(m: "re.Match") -> str:
            name = m.group(2) if m.group(2) is not None else m.group(3)  # `\include{}`: "", not None
            target, status = lookup(name)
            if status == "refused":
                stats.refused += 1
                stats.refused_paths.append(name.strip())
                return ""
            if status == "missing":
                stats.missing += 1
                return ""
            if target in stack:
                stats.cyclic += 1
                return ""
            if len(stack) > max_depth:
                stats.too_deep += 1
                return ""
            stats.resolved += 1
            if max_splices is not None and stats.resolved > max_splices:
                raise BudgetExceeded("latex_input_fanout", f"over max_input_splices={max_splices} \\input/\\include resolved")
            # newlines around it: the end of an input file ends a line, as in TeX
            return "\n" + splice(target, stack + (target,)) + "\n"

        out = _INPUT.sub(replace, text)
        if max_chars is not None and len(out) > max_chars:
            raise BudgetExceeded("latex_input_fanout", f"spliced text over {max_chars} characters")
        return out

    return splice(main, (main,)), stats


# ---------------------------------------------------------------- main file

_DOCCLASS = re.compile(r"\\document(?:class|style)(?![A-Za-z])")
_BEGIN_DOC = re.compile(r"\\begin\s*\{document\}")


def choose_main_file(files: Mapping[str, str]) -> Optional[str]:
    """The main `.tex` among comment-free texts (see the module docstring for the tie-breaks)."""
    candidates = [p for p, t in files.items() if _DOCCLASS.search(t)]
    if not candidates:
        return None
    return min(candidates, key=lambda p: (not _BEGIN_DOC.search(files[p]), -len(files[p].encode("utf-8", "surrogatepass")), p))


# ---------------------------------------------------------------- macros


class Macro(NamedTuple):
    nargs: int
    default: Optional[str]  # default of the optional first argument (newcommand [n][default])
    body: str


_DEFINITION = re.compile(r"\\(?:(?:re)?newcommand|providecommand)\*?(?![A-Za-z])|\\g?def(?![A-Za-z])")
_NAME = re.compile(r"\\([A-Za-z]+)")
_PARAMS = re.compile(r"(?:#[1-9])*")


def _parse_definition(text: str, start: int, end: int) -> Optional[Tuple[str, Macro, int]]:
    """Parse the definition whose keyword spans text[start:end]: (name, macro, end of definition)."""
    is_def = text[start + 1 : end].lstrip("g") == "def"
    pos = _skip_ws(text, end)
    if is_def:
        m = _NAME.match(text, pos)
        if not m:
            return None
        name, pos = m.group(1), m.end()
        params = _PARAMS.match(text, pos)
        nums = [int(d) for d in params.group(0)[1::2]]
        if nums != list(range(1, len(nums) + 1)):
            return None
        pos = params.end()
        if pos >= len(text) or text[pos] != "{":
            return None  # delimited parameters: not expanded, left as written
        group = read_group(text, pos)
        if group is None:
            return None
        return name, Macro(len(nums), None, group[0]), group[1]
    # \newcommand{\name}[n][default]{body} or \newcommand\name...
    if pos < len(text) and text[pos] == "{":
        group = read_group(text, pos)
        if group is None:
            return None
        m = re.fullmatch(r"\s*\\([A-Za-z]+)\s*", group[0])
        if not m:
            return None
        name, pos = m.group(1), group[1]
    else:
        m = _NAME.match(text, pos)
        if not m:
            return None
        name, pos = m.group(1), m.end()
    nargs, default = 0, None
    pos = _skip_ws(text, pos)
    m = re.compile(r"\[\s*(\d)\s*\]").match(text, pos)
    if m:
        nargs, pos = int(m.group(1)), _skip_ws(text, m.end())
        if pos < len(text) and text[pos] == "[":
            group = read_group(text, pos, "[", "]")
            if group is None:
                return None
            default, pos = group[0], _skip_ws(text, group[1])
    group = read_group(text, pos)
    if group is None:
        return None
    return name, Macro(nargs, default, group[0]), group[1]


def extract_macros(text: str) -> Tuple[str, Dict[str, Macro]]:
    """Remove the parseable definitions from `text`; return it and name → Macro (the last wins)."""
    macros: Dict[str, Macro] = {}
    out: List[str] = []
    pos = 0
    for m in _DEFINITION.finditer(text):
        if m.start() < pos:
            continue  # inside a definition already taken out
        parsed = _parse_definition(text, m.start(), m.end())
        if parsed is None:
            continue
        name, macro, end = parsed
        macros[name] = macro
        out.append(text[pos : m.start()])
        pos = end
    out.append(text[pos:])
    return "".join(out), macros


def _substitute(body: str, args: Sequence[str]) -> str:
    def arg(m: "re.Match") -> str:
        if m.group(0) == "##":
            return "#"
        k = int(m.group(1)) - 1
        return args[k] if k < len(args) else m.group(0)

    return re.sub(r"##|#([1-9])", arg, body)


def _expand_once(text: str, macros: Mapping[str, Macro], max_chars: Optional[int] = None) -> Tuple[str, int]:
    out: List[str] = []
    pos = 0
    count = 0
    size = 0
    for m in _CONTROL.finditer(text):
        if m.start() < pos:
            continue
        name = m.group(0)[1:]
        macro = macros.get(name)
        if macro is None:
            continue
        end = m.end()
        args: List[str] = []
        ok = True
        if macro.nargs:
            needed = macro.nargs
            if macro.default is not None:
                after = _skip_ws(text, end)
                group = read_group(text, after, "[", "]") if after < len(text) and text[after] == "[" else None
                if group is not None:
                    args.append(group[0])
                    end = group[1]
                else:
                    args.append(macro.default)
                needed -= 1
            for _ in range(needed):
                got = _read_argument(text, end)
                if got is None:
                    ok = False
                    break
                args.append(got[0])
                end = got[1]
        if not ok:
            continue
        replacement = _substitute(macro.body, args)
        # a body ending in a control word must not run into the letters that follow it
        if re.search(r"\\[A-Za-z]+$", replacement) and end < len(text) and text[end].isalpha():
            replacement += " "
        out.append(text[pos : m.start()])
        out.append(replacement)
        size += m.start() - pos + len(replacement)
        if max_chars is not None and size > max_chars:
            raise BudgetExceeded("latex_expansion_too_large", f"macro expansion over {max_chars} characters")
        pos = end
        count += 1
    out.append(text[pos:])
    if max_chars is not None and size + len(text) - pos > max_chars:
        raise BudgetExceeded("latex_expansion_too_large", f"macro expansion over {max_chars} characters")
    return "".join(out), count


def expand_macros(text: str, macros: Mapping[str, Macro], max_passes: int = 8,
                  max_chars: Optional[int] = None) -> Tuple[str, int, bool]:
    """(text, expansions made, True when still expanding after `max_passes` — a recursive macro).
    Each pass is linear; a text growing past `max_chars` raises `BudgetExceeded` at once, so a
    macro that multiplies itself (`\\def\\b{\\b\\b…}`) costs no more than the budget."""
    total = 0
    if not macros:
        return text, 0, False
    for _ in range(max_passes):
        text, count = _expand_once(text, macros, max_chars)
        total += count
        if count == 0:
            return text, total, False
    return text, total, True


# ---------------------------------------------------------------- section cut, bibliography


def section_pattern(commands: Sequence[str] = DEFAULT_SECTION_COMMANDS) -> "re.Pattern":
    # one alternative per command: never run two together (RedPajama's \paragraph bug)
    names = "|".join(re.escape(c) for c in commands)
    return re.compile(r"\\(?:" + names + r")(?![A-Za-z])\*?\s*[\[{]")


def cut_before_first_section(text: str, pattern: "re.Pattern") -> Optional[str]:
    m = pattern.search(text)
    return None if m is None else text[m.start() :]


_END_DOCUMENT = re.compile(r"\\end\s*\{document\}")
_BIBLIOGRAPHY = re.compile(
    r"\\begin\{(thebibliography|references)\}.*?(?:\\end\{\1\}|\Z)"
    r"|\\(?:bibliography|bibliographystyle|addbibresource|nobibliography)\s*\{[^{}]*\}"
    r"|\\printbibliography(?:\s*\[[^\]]*\])?",
    re.S | re.I,
)


def cut_after_end_document(text: str) -> str:
    m = _END_DOCUMENT.search(text)
    return text if m is None else text[: m.start()]


def remove_bibliography(text: str) -> str:
    return _BIBLIOGRAPHY.sub("", text)


def tidy(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row, no leading/trailing blank lines."""
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n" if text.strip() else ""


# ---------------------------------------------------------------- the whole e-print


@dataclass
class CleanConfig:
    section_commands: Sequence[str] = DEFAULT_SECTION_COMMANDS
    max_input_depth: int = 16
    max_macro_passes: int = 8
    never_expand: Sequence[str] = ()
    # Budgets (a paper over one is counted out as `bad_input:<reason>`, never kept half-cleaned):
    max_input_splices: int = 1000
    max_expansion_ratio: float = 4.0  # spliced / expanded text ≤ ratio × the e-print's text + slack
    expansion_slack_chars: int = 1_000_000
    max_scan_per_char: int = 64  # brace scanning ≤ this × that size

    @classmethod
    def from_recipe(cls, cfg: Mapping) -> "CleanConfig":
        return cls(
            section_commands=tuple(cfg["section_commands"]),
            max_input_depth=int(cfg["max_input_depth"]),
            max_macro_passes=int(cfg["max_macro_passes"]),
            never_expand=tuple(cfg["never_expand"]),
            max_input_splices=int(cfg["max_input_splices"]),
            max_expansion_ratio=float(cfg["max_expansion_ratio"]),
            expansion_slack_chars=int(cfg["expansion_slack_chars"]),
            max_scan_per_char=int(cfg["max_scan_per_char"]),
        )


@dataclass
class CleanResult:
    text: Optional[str]  # None: dropped, see `reason`
    reason: str = ""
    main_file: Optional[str] = None
    inputs: InputStats = field(default_factory=InputStats)
    macros_defined: int = 0
    macro_expansions: int = 0
    macro_limit_hit: bool = False
    detail: str = ""  # for a bad_input reason: what was over its budget


def clean_eprint(files: Mapping[str, str], config: CleanConfig = CleanConfig()) -> CleanResult:
    """`files`: archive path → decoded text of each `.tex` member. Returns the cleaned paper text,
    or a drop reason; a paper over a budget is `bad_input:<reason>` (`detail` says which)."""
    size = sum(len(t) for t in files.values())
    max_chars = int(config.max_expansion_ratio * size) + config.expansion_slack_chars
    _WORK.left = config.max_scan_per_char * size + config.expansion_slack_chars
    try:
        return _clean(files, config, max_chars)
    except BudgetExceeded as e:
        return CleanResult(None, "bad_input:" + e.reason, detail=e.detail)
    finally:
        _WORK.left = None
        _MATCHES.text = _MATCHES.opens = _MATCHES.closes = None  # hold no paper past its cleaning


def _clean(files: Mapping[str, str], config: CleanConfig, max_chars: int) -> CleanResult:
    plain = {path: strip_comments(text) for path, text in files.items()}
    main = choose_main_file(plain)
    if main is None:
        return CleanResult(None, "no_main_file")
    text, stats = resolve_inputs(main, plain, config.max_input_depth, max_splices=config.max_input_splices,
                                 max_chars=max_chars)
    text = cut_after_end_document(text)
    text, macros = extract_macros(text)
    protected = set(config.section_commands) | set(config.never_expand)
    macros = {name: m for name, m in macros.items() if name not in protected}
    text, expansions, limit_hit = expand_macros(text, macros, config.max_macro_passes, max_chars)
    if limit_hit:  # still expanding: a recursive macro; kept, the paper would hold raw macros
        return CleanResult(None, "bad_input:latex_macro_recursion", main_file=main, inputs=stats,
                           detail=f"macros still expanding after max_macro_passes={config.max_macro_passes}")
    result = CleanResult(None, main_file=main, inputs=stats, macros_defined=len(macros), macro_expansions=expansions, macro_limit_hit=limit_hit)
    body = cut_before_first_section(text, section_pattern(config.section_commands))
    if body is None:
        result.reason = "no_section"
        return result
    body = tidy(remove_bibliography(body))
    if not body:
        result.reason = "empty_after_cleaning"
        return result
    result.text = body
    return result
