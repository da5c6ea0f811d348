"""Writes the bundled arXiv samples in arXiv's own formats (deterministic bytes: fixed mtimes).

- 2401.00001.gz      gzip of a tar: multi-file source (\\input, \\include, \\newcommand with
                     arguments and an optional default, \\def), a .bbl, a figure, macOS `._*` junk
- 2401.00002.gz      gzip of a single .tex (how arXiv serves one-file submissions)
- arXiv_src_2401_001.tar   a monthly bulk tar: `2401/2401.00003.gz` (e-print) and
                     `2401/2401.00004.pdf` (a submission without TeX source)
Run: python samples/arxiv/make_samples.py  (from the repository root)
"""
import gzip
import io
import os
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
MTIME = 1704067200  # 2024-01-01

MAIN_00001 = r"""\documentclass[11pt]{article}
\usepackage{amsmath}
\input{macros}
% \input{old-draft.tex}   <- commented out: must not be resolved
\title{Sparse Routing for Streaming Aggregation}
\author{A. Author \and B. Author}
\begin{document}
\maketitle
\begin{abstract}
We study \method, a routing scheme for streaming aggregation.
\end{abstract}
\input{sections/intro}
\include{sections/method}
\bibliographystyle{plain}
\bibliography{refs}
\appendix
\section{Proofs}
The bound in \eqref{eq:cost} follows from \lemref{partition} and a union bound over \norm{x}{2}.
\end{document}
Anything after end-document is ignored by LaTeX.
"""

MACROS_00001 = r"""% Author macros
\newcommand{\method}{\textsc{SpaRo}}
\newcommand{\R}{\mathbb{R}}
\newcommand{\norm}[2]{\left\lVert #1 \right\rVert_{#2}}
\newcommand{\lemref}[2][Lemma]{#1~\ref{lem:#2}}
\renewcommand{\vec}[1]{\mathbf{#1}}
\def\cost#1{C(#1)}
\def\eps{\varepsilon}
"""

INTRO_00001 = r"""\section{Introduction}
\label{sec:intro}
Streaming aggregation over $\R^d$ is a core primitive. % TODO: cite more
We introduce \method, which keeps 95\% of the accuracy at 10\% of the cost.
Its cost is $\cost{\vec{x}} \le \eps \norm{\vec{x}}{1}$ for every input.
"""

METHOD_00001 = r"""\section{Method}
\subsection{Partitioning}
As \lemref[Claim]{partition} shows, \method\ splits the stream into $k$ parts.
\begin{equation}
  \cost{n} = O(n \log n) \label{eq:cost}
\end{equation}
"""

BBL_00001 = r"""\begin{thebibliography}{1}
\bibitem{a} A. Author. Streams. 2020.
\end{thebibliography}
"""

SINGLE_00002 = r"""\documentclass{article}
\newcommand{\ie}{i.e.,\xspace}
\newcommand{\abs}[1]{\lvert #1 \rvert}
\begin{document}
\title{A Note on Bounded Counters}
\maketitle
Front matter before the first section is removed.
\section{Counting}
A counter is bounded, \ie its value $v$ satisfies $\abs{v} \le 2^{31}$.
Overflow is rare: under 1\% of runs.% end-of-line comment
\paragraph{Remark} The escaped percent above stays; the comment does not.
\begin{thebibliography}{9}
\bibitem{k} D. Knuth. The Art of Computer Programming.
\end{thebibliography}
\end{document}
"""

BULK_00003 = r"""\documentclass{article}
\def\sys{\textsf{Heron}}
\begin{document}
\paragraph{Overview.} \sys{} schedules tasks on idle cores.
\section{Design}
\sys{} keeps one queue per core and steals work when a queue runs empty.
\end{document}
"""


def _tar_bytes(members) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = MTIME
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def main() -> None:
    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 16
    eprint1 = _tar_bytes(
        [
            ("./main.tex", MAIN_00001.encode()),
            ("./._main.tex", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        "),
            ("./macros.tex", MACROS_00001.encode()),
            ("./sections/intro.tex", INTRO_00001.encode()),
            ("./sections/method.tex", METHOD_00001.encode()),
            ("./main.bbl", BBL_00001.encode()),
            ("./figures/arch.png", png),
        ]
    )
    with open(os.path.join(HERE, "2401.00001.gz"), "wb") as f:
        f.write(_gzip(eprint1))
    with open(os.path.join(HERE, "2401.00002.gz"), "wb") as f:
        f.write(_gzip(SINGLE_00002.encode()))
    bulk = _tar_bytes(
        [
            ("2401/2401.00003.gz", _gzip(BULK_00003.encode())),
            ("2401/2401.00004.pdf", b"%PDF-1.4\n% no TeX source for this submission\n%%EOF\n"),
        ]
    )
    with open(os.path.join(HERE, "arXiv_src_2401_001.tar"), "wb") as f:
        f.write(bulk)


if __name__ == "__main__":
    main()
