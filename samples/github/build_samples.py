"""Writes this folder's GitHub samples (run from the repo root: python samples/github/build_samples.py).

- github_repos-export-000.jsonl: rows as a BigQuery export of `github_repos` (files ⋈ contents ⋈
  licenses) gives them: {repo_name, path, content, license}; kept, duplicate, GPL, minified,
  data-table and non-whitelisted rows.
- tinycalc-0.1.0.tar.gz: a tiny MIT-licensed Python project (an sdist-like tarball).
- gplsnake-1.0.tar.gz: a tiny project under the GPL (licence detected from COPYING; dropped).
Everything is deterministic (fixed mtimes, sorted members), so re-running gives the same bytes.
"""
import gzip
import io
import json
import os
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))

MIT = """MIT License

Copyright (c) 2023 The tinycalc authors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

GPL_COPYING = """                    GNU GENERAL PUBLIC LICENSE
                       Version 3, 29 June 2007

 Copyright (C) 2007 Free Software Foundation, Inc. <https://fsf.org/>
 Everyone is permitted to copy and distribute verbatim copies
 of this license document, but changing it is not allowed.

                            Preamble

  The GNU General Public License is a free, copyleft license for
software and other kinds of works.

  (The full text of the license is at https://www.gnu.org/licenses/gpl-3.0.txt.)
"""

OPS_PY = '''# Copyright (c) 2023 The tinycalc authors
# SPDX-License-Identifier: MIT
#
# Permission is hereby granted, free of charge, to any person obtaining a copy
# of this software, subject to the conditions in the LICENSE file.

"""Arithmetic operations for the tinycalc command line."""

from fractions import Fraction


def add(a, b):
    """Return the sum of two numbers."""
    return a + b


def divide(a, b):
    """Divide exactly when both numbers are integers, otherwise as floats."""
    if b == 0:
        raise ZeroDivisionError("cannot divide by zero")
    if isinstance(a, int) and isinstance(b, int):
        return Fraction(a, b)
    return a / b


def mean(values):
    """Arithmetic mean of a non-empty list of numbers."""
    values = list(values)
    if not values:
        raise ValueError("mean of an empty list")
    return sum(values) / len(values)
'''

MAIN_PY = '''#!/usr/bin/env python3
# Copyright (c) 2023 The tinycalc authors. Licensed under the MIT license.
"""Command line entry point: tinycalc add 2 3"""

import sys

from tinycalc import ops


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3:
        print("usage: tinycalc add|divide|mean NUMBERS...")
        return 2
    name, *numbers = argv
    values = [float(x) for x in numbers]
    print(getattr(ops, name)(*values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

README_MD = """# tinycalc

A very small calculator used to show how a command line tool can be split into
an operations module and an entry point. Run `python -m tinycalc add 2 3`.

## Operations

- `add`: the sum of two numbers
- `divide`: exact division for integers, float division otherwise
- `mean`: the arithmetic mean of a list
"""

MAKEFILE = """.PHONY: test lint

test:
\tpython -m pytest tests

lint:
\tpython -m pyflakes tinycalc
"""

SNAKE_C = """/* gplsnake: a terminal snake game.
 * Copyright (C) 2021 A. Hacker
 * This program is free software: you can redistribute it and/or modify it under the terms of
 * the GNU General Public License as published by the Free Software Foundation, version 3.
 */
#include <stdio.h>

int main(void) {
    printf("snake!\\n");
    return 0;
}
"""

GO_QUEUE = """// Copyright 2022 Blue Systems
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0

package fastqueue

// Queue is a first-in first-out queue of strings backed by a slice.
type Queue struct {
	items []string
}

// Push appends an item at the back of the queue.
func (q *Queue) Push(item string) {
	q.items = append(q.items, item)
}

// Pop removes and returns the item at the front, and false when the queue is empty.
func (q *Queue) Pop() (string, bool) {
	if len(q.items) == 0 {
		return "", false
	}
	item := q.items[0]
	q.items = q.items[1:]
	return item, true
}
"""

HEXDUMP_RS = """// Copyright (c) 2020, The hexdump developers. All rights reserved.
// Use of this source code is governed by a BSD-style license found in the LICENSE file.

use std::io::{self, Read};

/// Prints the bytes read from standard input, sixteen per line, as hexadecimal.
fn main() -> io::Result<()> {
    let mut buffer = Vec::new();
    io::stdin().read_to_end(&mut buffer)?;
    for (line, chunk) in buffer.chunks(16).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{:02x}", b)).collect();
        println!("{:08x}  {}", line * 16, hex.join(" "));
    }
    Ok(())
}
"""

MINIFIED_JS = "!function(e){var t={};function n(r){if(t[r])return t[r].exports;var o=t[r]={i:r,l:!1,exports:{}};return e[r].call(o.exports,o,o.exports,n),o.l=!0,o.exports}" * 12 + "\n"

HEX_TABLE_JS = "// generated glyph table\nconst GLYPHS = [\n" + "".join(
    "  " + ", ".join(f"0x{(i * 7 + j) % 256:02x}" for j in range(12)) + ",\n" for i in range(40)
) + "];\nexport default GLYPHS;\n"

CSV = "city,population\nOslo,709037\nBergen,291940\n"


def bigquery_rows():
    return [
        {"repo_name": "acme/tinycalc", "path": "tinycalc/ops.py", "content": OPS_PY, "license": "mit"},
        {"repo_name": "acme/tinycalc", "path": "README.md", "content": README_MD, "license": "mit"},
        {"repo_name": "blue/fastqueue", "path": "queue.go", "content": GO_QUEUE, "license": "apache-2.0"},
        {"repo_name": "blue/fastqueue", "path": "vendor/fastqueue/queue.go", "content": GO_QUEUE, "license": "apache-2.0"},
        {"repo_name": "gnu-fan/snake", "path": "snake.c", "content": SNAKE_C, "license": "gpl-3.0"},
        {"repo_name": "acme/webapp", "path": "static/vendor.min.js", "content": MINIFIED_JS, "license": "mit"},
        {"repo_name": "acme/webapp", "path": "src/glyphs.js", "content": HEX_TABLE_JS, "license": "mit"},
        {"repo_name": "acme/webapp", "path": "data/cities.csv", "content": CSV, "license": "mit"},
        {"repo_name": "bsdtools/hexdump", "path": "src/main.rs", "content": HEXDUMP_RS, "license": "bsd-3-clause"},
    ]


def write_tar(path, top, files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name in sorted(files):
            data = files[name].encode("utf-8")
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size, info.mtime, info.mode = len(data), 1700000000, 0o644
            info.uname = info.gname = "root"
            tf.addfile(info, io.BytesIO(data))
    with open(path, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as gz:
        gz.write(buf.getvalue())


def main():
    with open(os.path.join(HERE, "github_repos-export-000.jsonl"), "w", encoding="utf-8") as f:
        for row in bigquery_rows():
            f.write(json.dumps(row, sort_keys=True) + "\n")
    write_tar(
        os.path.join(HERE, "tinycalc-0.1.0.tar.gz"),
        "tinycalc-0.1.0",
        {"LICENSE": MIT, "README.md": README_MD, "Makefile": MAKEFILE, "setup.cfg": "[metadata]\nname = tinycalc\n",
         "tinycalc/__init__.py": "", "tinycalc/__main__.py": MAIN_PY, "tinycalc/ops.py": OPS_PY},
    )
    write_tar(
        os.path.join(HERE, "gplsnake-1.0.tar.gz"),
        "gplsnake-1.0",
        {"COPYING": GPL_COPYING, "snake.c": SNAKE_C, "README.md": "# gplsnake\n\nA terminal snake game.\n"},
    )


if __name__ == "__main__":
    main()
