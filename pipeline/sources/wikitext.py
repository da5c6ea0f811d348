"""Wikitext → plain text, as LLaMA describes it for Wikipedia.

Removed: templates (`{{…}}`, infoboxes included), template arguments, comments, tables (`{|…|}`
and `<table>`), references (`<ref>`, `<references/>`), media and category links (`[[File:…]]`,
`[[Category:…]]` and their local names in the 20 languages), interlanguage links, bare and
unlabelled external links, `<gallery>`, `<math>` and the other non-prose tags of `DROP_TAGS`,
behaviour switches (`__NOTOC__`), list and indentation markers, bold/italic markup.
Kept: the text of internal links (`[[Target|text]]` → `text`, `[[Target]]` → `Target`), labels of
external links, entity-decoded characters, headings as their own line (a heading with nothing
under it, such as "References" once the references are gone, is dropped).

`wikitext_to_text(source)` is the whole job; it parses with mwparserfromhell and renders the
node tree itself (strip_code keeps captions as "thumb|…" and table cells, which we do not want).
"""
from __future__ import annotations

import html
import re
from typing import List

import mwparserfromhell
from mwparserfromhell import nodes

# Local names of the File/Image/Media (6, -2) and Category (14) namespaces in the 20 LLaMA
# languages (bg ca cs da de en es fr hr hu it nl pl pt ro ru sl sr sv uk); matched case-folded.
MEDIA_AND_CATEGORY_PREFIXES = frozenset(
    p.casefold()
    for p in """
    file image media category
    файл картинка категория медия
    fitxer imatge categoria
    soubor obrázek kategorie
    fil billede kategori
    datei bild kategorie
    archivo imagen categoría
    fichier image catégorie
    datoteka slika kategorija
    fájl kép kategória
    immagine categoria
    bestand afbeelding categorie
    plik grafika kategoria
    ficheiro imagem arquivo categoria
    fișier imagine categorie
    изображение
    датотека слика категорија
    bild kategori
    зображення категорія
    """.split()
)

# Interlanguage links ([[de:Foo]]) point to another wiki; their text is not part of the article.
LANGUAGE_PREFIXES = frozenset(
    """af als am an ar arz as ast az ba be bg bn br bs ca ceb cs cy da de el en eo es et eu fa fi
    fr fy ga gl gu he hi hr hu hy id is it ja jv ka kk kn ko ku la lb lt lv mk ml mn mr ms my nds ne
    nl nn no oc pa pl pt ro ru sh si simple sk sl sq sr su sv sw ta te th tl tr tt uk ur uz vi war
    yi zh zh-yue zh-min-nan""".split()
)

# Tags whose content is not running prose.
DROP_TAGS = frozenset(
    """ref references table gallery math chem ce score timeline graph mapframe maplink imagemap
    templatedata templatestyles syntaxhighlight source pre hiero inputbox categorytree noinclude
    indicator""".split()
)
_LINE_BREAK_TAGS = frozenset({"br", "p", "div", "li", "dd", "dt"})
_HEADING = "\x00H"  # marks heading lines until empty sections are removed
_SWITCH = re.compile(r"__[A-Z]+__")
_SPACES = re.compile(r"[ \t\u00a0]+")
_SPACE_BEFORE_PUNCT = re.compile(r" +([.,;:!?)\]])")
_SPACE_AFTER_OPEN = re.compile(r"([(\[]) +")
_EMPTY_PARENS = re.compile(r"\( *[,;]? *\)")
_BLANKS = re.compile(r"\n{3,}")


def _link_prefix(title: str) -> str:
    title = title.strip()
    if title.startswith(":"):
        return ""  # [[:Category:Foo]] is a visible link to the category page, not a tag
    return title.split(":", 1)[0].strip().casefold() if ":" in title else ""


def _render(code, out: List[str]) -> None:
    for node in code.nodes:
        if isinstance(node, nodes.Text):
            out.append(node.value)
        elif isinstance(node, (nodes.Template, nodes.Comment, nodes.Argument)):
            continue
        elif isinstance(node, nodes.Wikilink):
            title = str(node.title)
            prefix = _link_prefix(title)
            if prefix in MEDIA_AND_CATEGORY_PREFIXES or prefix in LANGUAGE_PREFIXES:
                continue
            if node.text is not None:
                _render(node.text, out)
            else:
                out.append(title.lstrip(":").split("#", 1)[0] if not title.startswith("#") else title[1:])
        elif isinstance(node, nodes.ExternalLink):
            if node.brackets and node.title is not None:
                _render(node.title, out)
        elif isinstance(node, nodes.HTMLEntity):
            out.append(node.normalize())
        elif isinstance(node, nodes.Heading):
            inner: List[str] = []
            _render(node.title, inner)
            out.append(f"\n{_HEADING}{''.join(inner).strip()}\n")
        elif isinstance(node, nodes.Tag):
            tag = str(node.tag).strip().lower()
            if tag in DROP_TAGS:
                continue
            if node.wiki_markup and tag in ("li", "dt", "dd", "hr"):
                continue  # list/indent markers: the item's text follows as plain nodes
            if tag in _LINE_BREAK_TAGS:
                out.append("\n")
            if node.contents is not None and not node.self_closing:
                _render(node.contents, out)
        # anything else (nodes mwparserfromhell may add later) renders as nothing


def _drop_empty_sections(lines: List[str]) -> List[str]:
    """Headings with nothing under them (the next non-blank line is a heading, or none) dropped;
    one pass from the end knows what follows each line (the scan per heading was quadratic)."""
    kept: List[str] = []
    next_is_text = False  # the next non-blank line after this one exists and is not a heading
    for line in reversed(lines):
        if line.startswith(_HEADING):
            if next_is_text:
                kept.append(line[len(_HEADING):])
            next_is_text = False
        else:
            kept.append(line)
            if line.strip():
                next_is_text = True
    kept.reverse()
    return kept


_COMMENT = re.compile(r"<!--.*?(-->|\Z)", re.DOTALL)
# Self-closing first, and its attributes may hold a "/" (`<ref name="BBC/2010"/>`): otherwise the
# open-tag branch would take it and swallow the prose up to the next `</ref>`.
_REF = re.compile(r"<ref\b[^>]*/\s*>|<ref\b[^>]*>.*?(</ref\s*>|\Z)", re.DOTALL | re.IGNORECASE)
_REFERENCES = re.compile(r"<references\b[^>]*/>|<references\b[^>]*>.*?</references\s*>", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*\b[^<>]*>")
_APOSTROPHES = re.compile(r"'{2,}")
_BRACKET_URL = re.compile(r"\[(?:https?:)?//[^\s\]]*\s*([^\]]*)\]")
_BARE_URL = re.compile(r"(?<![\w/])https?://[^\s<>\]|]+")


_HEAD_CHARS = 512  # what `drop` sees of a span: a title is at most 255 bytes, so its prefix is in there


def _remove_balanced(text: str, open_: str, close: str, drop) -> str:
    """Remove each `open_ … close` span (nesting counted) for which `drop(head)` is true, `head`
    being the first `_HEAD_CHARS` characters inside it; an unclosed span runs to the end of the
    text. Linear: one pass pairs every opener with its closer (a stack), then the spans are
    decided left to right, skipping those inside a removed one (a kept span's inner spans are
    looked at too). Rescanning from each opener was quadratic on nested or unclosed `[[`."""
    token = re.compile(re.escape(open_) + "|" + re.escape(close))
    opens: List[int] = []
    end_of = {}
    stack: List[int] = []
    for m in token.finditer(text):
        if m.group(0) == open_:
            opens.append(m.start())
            stack.append(m.start())
        elif stack:
            end_of[stack.pop()] = m.end()
    if not opens:
        return text
    out = []
    i = 0
    n_open, n_close = len(open_), len(close)
    for start in opens:
        if start < i:
            continue  # inside a span already removed
        end = end_of.get(start)
        inner_end = len(text) if end is None else end - n_close
        if drop(text[start + n_open: min(inner_end, start + n_open + _HEAD_CHARS)]):
            out.append(text[i:start])
            i = len(text) if end is None else end
    out.append(text[i:])
    return "".join(out)


def _is_media_or_category(inner: str) -> bool:
    prefix = _link_prefix(inner.split("|", 1)[0])
    return prefix in MEDIA_AND_CATEGORY_PREFIXES or prefix in LANGUAGE_PREFIXES


def _remove_tables(text: str) -> str:
    """Drop `{| … |}` tables line by line (they open and close at the start of a line)."""
    out = []
    depth = 0
    for line in text.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith("{|"):
            depth += 1
            continue
        if depth:
            if stripped.startswith("|}"):
                depth -= 1
            continue
        out.append(line)
    return "\n".join(out)


def _pre_clean(source: str) -> str:
    text = _COMMENT.sub("", source)
    text = _REFERENCES.sub("", text)
    text = _REF.sub("", text)
    text = _remove_tables(text)
    return _remove_balanced(text, "[[", "]]", _is_media_or_category)


def _apostrophes(m) -> str:
    run = m.group(0)
    # A closing run of 3 before "s" ("Iliad" in italics, then 's): one quote is the apostrophe.
    if len(run) in (3, 4) and m.string[m.end(): m.end() + 1] == "s":
        return "'"
    return "'" if len(run) == 4 else ""


def _post_clean(text: str) -> str:
    text = _remove_balanced(text, "{{", "}}", lambda inner: True)
    text = text.replace("{{", "").replace("}}", "").replace("[[", "").replace("]]", "")
    text = _BRACKET_URL.sub(r"\1", text)
    text = _BARE_URL.sub("", text)
    text = _TAG.sub("", text)
    text = _APOSTROPHES.sub(_apostrophes, text)
    return html.unescape(text)


def wikitext_to_text(source: str) -> str:
    code = mwparserfromhell.parse(_pre_clean(source))
    out: List[str] = []
    _render(code, out)
    text = _post_clean(_SWITCH.sub("", "".join(out)))
    lines = []
    for line in text.split("\n"):
        line = _SPACES.sub(" ", line).strip()
        line = _SPACE_BEFORE_PUNCT.sub(r"\1", line)
        line = _SPACE_AFTER_OPEN.sub(r"\1", line)
        line = _EMPTY_PARENS.sub("", line).strip()
        lines.append(line)
    lines = _drop_empty_sections(lines)
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()
