"""Seeds → numbers a reader can trust: mean ± standard error per arm, the difference between two
arms with its 95% interval, and a plain verdict when that interval holds 0.

- Per arm, over its seeds: the mean and its standard error, sample standard deviation (ddof 1)
  over √n.
- Between two arms: the difference of means, its standard error √(s_a²/n_a + s_b²/n_b) and
  Welch–Satterthwaite degrees of freedom; the 95% interval is diff ± t(0.975, df)·se. With two
  seeds per arm df is about 1-2 and t is 4-13: such intervals are wide on purpose, since two seeds say
  little about seed-to-seed spread.
- "within noise" means the interval contains 0. With one seed per arm there is no interval and
  the verdict says so. With no spread at all (every seed of both arms gave the same number, e.g.
  near-random models that pick the same answers) the seeds cannot size the noise: within noise.

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


def difference(a: Dict, b: Dict, confidence: float = CONFIDENCE) -> Dict:
    """b − a from two `mean_se` results: diff, se, df, the interval and whether it holds 0."""
    diff = b["mean"] - a["mean"]
    out = {"diff": diff, "se": None, "df": None, "ci": None, "confidence": confidence, "within_noise": None}
    if a["n"] < 2 or b["n"] < 2:
        return out
    va, vb = a["sd"] ** 2 / a["n"], b["sd"] ** 2 / b["n"]
    se = math.sqrt(va + vb)
    out["se"] = se
    if se == 0.0:
        # Every seed gave the same number: the seeds cannot size the noise, so nothing is shown.
        out.update(ci=[diff, diff], within_noise=True)
        return out
    df = (va + vb) ** 2 / ((va ** 2 / (a["n"] - 1) if va else 0.0) + (vb ** 2 / (b["n"] - 1) if vb else 0.0))
    half = t_ppf(0.5 + confidence / 2.0, df) * se
    out.update(df=df, ci=[diff - half, diff + half], within_noise=diff - half <= 0.0 <= diff + half)
    return out


def verdict(metric: str, a_name: str, b_name: str, d: Dict, lower_is_better: bool, unit: str = "") -> str:
    """One plain sentence about b − a."""
    unit = f" {unit}" if unit else ""
    head = f"{metric}: {b_name} − {a_name} = {d['diff']:+.4g}{unit}"
    if d["within_noise"] is None:
        return f"{head}; one seed per arm, so no interval: rerun with --seeds 2 or more before reading anything into it"
    lo, hi = d["ci"]
    if d["df"] is None:
        return (f"{head}; every seed of each arm gave the same value, so the seeds cannot size the noise: "
                "within noise as far as they tell, no difference shown")
    interval = f"{int(round(d['confidence'] * 100))}% interval [{lo:+.4g}, {hi:+.4g}]"
    if d["within_noise"]:
        return f"{head}, {interval} includes 0: within noise, no difference shown at these seeds and tokens"
    better = b_name if (d["diff"] < 0) == lower_is_better else a_name
    return (f"{head}, {interval} excludes 0: {better} is better "
            f"({'lower' if lower_is_better else 'higher'} is better)")


def compare(per_arm: Dict[str, List[float]], baseline: str, metric: str, lower_is_better: bool,
            unit: str = "") -> Dict:
    """Every arm's mean ± se, and every other arm against `baseline`."""
    stats = {arm: mean_se(v) for arm, v in per_arm.items()}
    diffs = {}
    for arm in per_arm:
        if arm == baseline:
            continue
        d = difference(stats[baseline], stats[arm])
        d["verdict"] = verdict(metric, baseline, arm, d, lower_is_better, unit)
        diffs[f"{arm} - {baseline}"] = d
    return {"lower_is_better": lower_is_better, "unit": unit, "arms": stats, "differences": diffs}


def optional(x: Optional[float], fmt: str = ".4g") -> str:
    return "—" if x is None else format(x, fmt)
