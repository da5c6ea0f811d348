"""The BigQuery query that reads GitHub files on Dataflow (`--github_input=bigquery`).

`bigquery-public-data.github_repos` holds `files` (repo_name, ref, path, id), `contents` (id,
content, size, binary) and `licenses` (repo_name, license). The query joins them into the same
rows as a JSON-lines export, `{repo_name, path, content, license}`, and pushes the cheap parts of
the recipe down to BigQuery so that terabytes are not shipped to be dropped: licence kept, not
binary, size cap, extension whitelist. Everything it pushes down is checked again in the pipeline
(same `Admission`), so the query is an optimisation, never the only guard. Rows BigQuery does not
return are not counted in docs_in (the query is the input).

`contents` holds each blob once, but `files` names the same blob in many repos and refs (forks):
the query keeps one (repo_name, path) per blob, the smallest, so the result is deterministic (exact
dedup in the pipeline still runs: equal content may sit in several blobs after a licence header).
"""
from __future__ import annotations

import re
from typing import Iterable, Optional

DEFAULT_DATASET = "bigquery-public-data.github_repos"

_IDENT = re.compile(r"^[A-Za-z0-9_.-]+$")


def _quote_all(values: Iterable[str]) -> str:
    out = []
    for v in sorted(set(values)):
        if "'" in v or "\\" in v:
            raise ValueError(f"refusing a quote in a query literal: {v!r}")
        out.append(f"'{v}'")
    return ", ".join(out)


def build_query(
    licenses: Iterable[str],
    extensions: Iterable[str],
    max_file_bytes: int,
    dataset: str = DEFAULT_DATASET,
    limit: Optional[int] = None,
) -> str:
    """Standard SQL returning repo_name, path, content, license for the files the recipe admits.

    `extensions` are whitelist keys as in `filters.code_heuristics.extension_key`: `.py` matches
    the lowercased extension, `dockerfile` a whole lowercased file name.
    """
    if not _IDENT.match(dataset):
        raise ValueError(f"not a dataset name: {dataset!r}")
    exts = sorted(e.lower() for e in extensions)
    suffixes = [e for e in exts if e.startswith(".")]
    names = [e for e in exts if not e.startswith(".")]
    ext_terms = []
    if suffixes:
        ext_terms.append(f"LOWER(REGEXP_EXTRACT(f.path, r'(\\.[^./]+)$')) IN ({_quote_all(suffixes)})")
    if names:
        ext_terms.append(f"LOWER(REGEXP_EXTRACT(f.path, r'[^/]*$')) IN ({_quote_all(names)})")
    ext_filter = " OR ".join(ext_terms) if ext_terms else "FALSE"
    query = f"""WITH admitted AS (
  SELECT f.id, f.repo_name, f.path, l.license
  FROM `{dataset}.files` AS f
  JOIN `{dataset}.licenses` AS l ON f.repo_name = l.repo_name
  WHERE l.license IN ({_quote_all(licenses)})
    AND ({ext_filter})
),
one_name AS (
  SELECT id, ARRAY_AGG(STRUCT(repo_name, path, license) ORDER BY repo_name, path LIMIT 1)[OFFSET(0)] AS name
  FROM admitted
  GROUP BY id
)
SELECT n.name.repo_name AS repo_name, n.name.path AS path, c.content AS content, n.name.license AS license
FROM one_name AS n
JOIN `{dataset}.contents` AS c ON n.id = c.id
WHERE c.binary = FALSE
  AND c.size <= {int(max_file_bytes)}"""
    if limit is not None:
        query += f"\nLIMIT {int(limit)}"
    return query


def query_for_recipe(cfg: dict) -> str:
    bq = cfg.get("bigquery", {})
    return build_query(
        cfg["licenses_kept"], cfg["extensions"], cfg["max_file_bytes"], bq.get("dataset", DEFAULT_DATASET), bq.get("limit")
    )
