"""`llamadata COMMAND [ARGS]`: one console command for the project's programs (pyproject.toml
[project.scripts], installed by set-up). Each command runs its module exactly as `python -m MODULE
ARGS` does (`runpy`), so options, help, messages and exit codes are the module's own; the
`python -m` forms stay.

    llamadata run --output=out        = python -m pipeline.run --output=out
    llamadata report out              = python -m pipeline.report out
    llamadata train --data out …      = python train_hooks/train.py --data out …

Modules are imported only when their command runs: `llamadata report` never loads torch, and the
trainer's commands never load Beam.
"""
from __future__ import annotations

import importlib.util
import runpy
import sys
from typing import List, Optional

from common.cli import EXIT_USAGE, closest

PROG = "llamadata"
# command → (module run as __main__, what it does)
COMMANDS = {
    "run": ("pipeline.run", "curate the sources, train the tokenizer, tokenize, plan the mixture"),
    "report": ("pipeline.report", "(re)write OUT/report.html of a run"),
    "inspect": ("pipeline.inspect", "show a run's kept documents, or those dropped for a reason"),
    "train": ("train_hooks.train", "train a LLaMA on a run's mixture (train_hooks/train.py)"),
    "eval": ("train_hooks.eval", "zero-shot tasks and held-out perplexity of a checkpoint"),
    "export": ("train_hooks.export", "export a checkpoint for Hugging Face transformers"),
    "data": ("train_hooks.data", "describe or --audit a mixture's sample plan"),
    "ablate": ("train_hooks.ablate", "train and compare models on recipe variants"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"usage: {PROG} COMMAND [ARGS]   ({PROG} COMMAND --help: the command's options)", "", "commands:"]
    lines += [f"  {name:<{width}}  {what}  (python -m {module})" for name, (module, what) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        hint = closest(name, COMMANDS)
        fix = f"did you mean {PROG} {hint}?" if hint else f"commands: {', '.join(COMMANDS)}"
        print(f"{PROG}: error: unknown command {name!r}; {fix}", file=sys.stderr)
        return EXIT_USAGE
    module = COMMANDS[name][0]
    if importlib.util.find_spec(module) is None:
        print(f"{PROG}: error: {PROG} {name} runs python -m {module}, which this checkout does not have yet; "
              f"update the checkout (then rerun set-up) to get it", file=sys.stderr)
        return EXIT_USAGE
    sys.argv = [f"{PROG} {name}", *rest]
    runpy.run_module(module, run_name="__main__", alter_sys=True)  # exits as the module does
    return 0


if __name__ == "__main__":
    sys.exit(main())
