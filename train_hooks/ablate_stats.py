"""Seeds → numbers a reader can trust: mean ± standard error per arm, the difference between two
arms with its 95% interval, and a plain verdict when that interval holds 0.

- Per arm, over its seeds: the mean and its standard error, sample standard deviation (ddof 1)
  over √n.
- Between two arms: the difference of means, its standard error √(s_a²/n_a + s_b²/n_b) and
  Welch–Satterthwaite degrees of freedom; the 95% interval is diff ± t(0.975, df)·se. With two
  seeds per arm df is about 1-2 and t is 4-13: such intervals are wide on purpose, since two seeds say
  little about seed-to-seed spread.
- The test set is a sample too: both arms are scored on the same task items and reference
  passages, so the difference also gets a paired interval over those units (`paired_items`). Near-
  random models can differ reproducibly across seeds on which of 500 items they get right; that is
  not a better recipe.
- "within noise" means either interval contains 0. With one seed per arm there is no seed interval
  and the verdict says so. With no spread at all (every seed of both arms gave the same number)
  the seeds cannot size the noise and the items' interval decides.

The Student-t quantile is computed here (regularised incomplete beta by Lentz's continued
fraction, then bisection), so the trainer's environment needs no scipy; tests compare it with
scipy.stats.t.ppf.
"""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence

CONFIDENCE = 0.95


def mean_se(values: Sequence[float]) -> Dict:
    """{"n", "mean", "se", "sd", "values"}; se and sd are None for a single value."""
    xs = [float(v) for v in values]
    n = len(xs)
    if not n:
        raise ValueError("no values")
    mean = math.fsum(xs) / n
    if n < 2:
        return {"n": n, "mean": mean, "se": None, "sd": None, "values": xs}
    sd = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    return {"n": n, "mean": mean, "se": sd / math.sqrt(n), "sd": sd, "values": xs}


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
            last = d * c
        if abs(last - 1.0) < eps:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_ppf(p: float, df: float) -> float:
    """Quantile of Student's t with `df` (real, > 0) degrees of freedom."""
    if not 0.0 < p < 1.0 or df <= 0:
        raise ValueError(f"t_ppf({p}, {df})")
    if p < 0.5:
        return -t_ppf(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


def paired_items(per_unit_a: Sequence[float], per_unit_b: Sequence[float], scale: float = 1.0,
                 mean: bool = True, unit: str = "items", confidence: float = CONFIDENCE) -> Optional[Dict]:
    """The test set's own sampling noise of b − a, paired: both arms are scored on the same units
    (task items, reference passages). x_u = b_u − a_u (each already averaged over the arm's seeds);
    the difference is mean(x)·scale (or Σx·scale with mean=False, for a ratio such as bits per
    byte: Σ bits / Σ bytes) and its standard error sd(x)/√n·scale (√n·sd(x)·scale for the sum);
    the interval uses t with n − 1 degrees of freedom. None with fewer than two units."""
    xs = [float(b) - float(a) for a, b in zip(per_unit_a, per_unit_b)]
    n = len(xs)
    if n < 2:
        return None
    m = math.fsum(xs) / n
    sd = math.sqrt(math.fsum((x - m) ** 2 for x in xs) / (n - 1))
    diff, se = (m * scale, sd / math.sqrt(n) * scale) if mean else (m * n * scale, sd * math.sqrt(n) * scale)
    half = t_ppf(0.5 + confidence / 2.0, n - 1) * se
    return {"n": n, "unit": unit, "diff": diff, "se": se, "ci": [diff - half, diff + half],
            "within": diff - half <= 0.0 <= diff + half}


def difference(a: Dict, b: Dict, items: Optional[Dict] = None, confidence: float = CONFIDENCE) -> Dict:
    """b − a from two `mean_se` results: the seed interval (Welch; `se`, `df`, `ci`), the test
    set's paired interval when given (`items`, from `paired_items`), and `within_noise`: True when
    either interval holds 0 (a difference is shown only when it stands out of both the seed-to-seed
    spread and the sampling of the items it was measured on); None with one seed per arm."""
    diff = b["mean"] - a["mean"]
    out = {"diff": diff, "se": None, "df": None, "ci": None, "items": items, "confidence": confidence,
           "within_noise": None}
    if a["n"] < 2 or b["n"] < 2:
        return out
    va, vb = a["sd"] ** 2 / a["n"], b["sd"] ** 2 / b["n"]
    se = math.sqrt(va + vb)
    out["se"] = se
    item_within = items["within"] if items else None
    if se == 0.0:
        # Every seed gave the same number: the seeds cannot size the noise; the items may.
        out.update(ci=[diff, diff], within_noise=True if item_within is None else item_within)
        return out
    df = (va + vb) ** 2 / ((va ** 2 / (a["n"] - 1) if va else 0.0) + (vb ** 2 / (b["n"] - 1) if vb else 0.0))
    half = t_ppf(0.5 + confidence / 2.0, df) * se
    seed_within = diff - half <= 0.0 <= diff + half
    out.update(df=df, ci=[diff - half, diff + half], within_noise=seed_within or bool(item_within))
    return out


def verdict(metric: str, a_name: str, b_name: str, d: Dict, lower_is_better: bool, unit: str = "") -> str:
    """One plain sentence about b − a."""
    unit = f" {unit}" if unit else ""
    head = f"{metric}: {b_name} − {a_name} = {d['diff']:+.4g}{unit}"
    pct = f"{int(round(d['confidence'] * 100))}%"
    items = d["items"]
    item_part = (f"over the {items['n']} {items['unit']} [{items['ci'][0]:+.4g}, {items['ci'][1]:+.4g}]"
                 if items else None)
    if d["within_noise"] is None:
        return (f"{head}; one seed per arm, so no seed interval"
                + (f" (interval {item_part})" if item_part else "")
                + ": rerun with --seeds 2 or more before reading anything into it")
    better = b_name if (d["diff"] < 0) == lower_is_better else a_name
    if d["df"] is None:
        seed_part = "every seed of each arm gave the same value, so the seeds cannot size the noise"
        if d["within_noise"]:
            return (f"{head}; {seed_part}" + (f", and the {pct} interval {item_part} includes 0" if item_part else "")
                    + ": within noise, no difference shown")
        return f"{head}; {seed_part}; the {pct} interval {item_part} excludes 0: {better} is better"
    lo, hi = d["ci"]
    seed_part = f"{pct} interval over seeds [{lo:+.4g}, {hi:+.4g}]"
    both = f"{seed_part}" + (f" and {item_part}" if item_part else "")
    if d["within_noise"]:
        holders = [name for name, ci in (("seeds", d["ci"]), (items["unit"] if items else "", items["ci"] if items else None))
                   if ci is not None and ci[0] <= 0.0 <= ci[1]]
        which = (f"the interval over {holders[0]} includes 0" if len(holders) == 1
                 else f"the intervals over {' and over '.join(holders)} include 0")
        return f"{head}, {both}: {which}, so it is within noise: no difference shown at these seeds and tokens"
    return (f"{head}, {both} {'exclude' if item_part else 'excludes'} 0: {better} is better "
            f"({'lower' if lower_is_better else 'higher'} is better)")


def compare(per_arm: Dict[str, List[float]], baseline: str, metric: str, lower_is_better: bool,
            unit: str = "", items: Optional[Dict[str, Dict]] = None) -> Dict:
    """Every arm's mean ± se, and every other arm against `baseline` (`items`: per other arm, its
    `paired_items` result against the baseline)."""
    stats = {arm: mean_se(v) for arm, v in per_arm.items()}
    diffs = {}
    for arm in per_arm:
        if arm == baseline:
            continue
        d = difference(stats[baseline], stats[arm], (items or {}).get(arm))
        d["verdict"] = verdict(metric, baseline, arm, d, lower_is_better, unit)
        diffs[f"{arm} - {baseline}"] = d
    return {"lower_is_better": lower_is_better, "unit": unit, "arms": stats, "differences": diffs}


def optional(x: Optional[float], fmt: str = ".4g") -> str:
    return "—" if x is None else format(x, fmt)
