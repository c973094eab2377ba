"""The probability that a variant's click-through rate beats the control's. Each rate gets a
Beta(1 + clicks, 1 + impressions - clicks) posterior (a uniform prior), and P(p_B > p_A) is
computed exactly with Evan Miller's closed form (a sum of Beta functions over one side's
clicks, taken over whichever side has fewer). Beyond `EXACT_TERMS` terms, a normal
approximation of the two posteriors is used instead. Deterministic: no sampling."""

import math

EXACT_TERMS = 200_000
METHOD = (
    "Bayesian A/B test: Beta(1+clicks, 1+impressions-clicks) posteriors, P(CTR_variant > "
    "CTR_control) by Evan Miller's closed form (exact; normal approximation beyond "
    f"{EXACT_TERMS:,} clicks)"
)


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _exact(a_a: int, b_a: int, a_b: int, b_b: int) -> float:
    """P(X_B > X_A), X_A ~ Beta(a_a, b_a), X_B ~ Beta(a_b, b_b), summing over a_b terms."""
    base = _log_beta(a_a, b_a)
    total = 0.0
    for i in range(a_b):
        total += math.exp(
            _log_beta(a_a + i, b_a + b_b) - math.log(b_b + i) - _log_beta(1 + i, b_b) - base
        )
    return total


def _normal(a_a: int, b_a: int, a_b: int, b_b: int) -> float:
    def moments(a: int, b: int) -> tuple[float, float]:
        n = a + b
        return a / n, a * b / (n * n * (n + 1))

    mean_a, var_a = moments(a_a, b_a)
    mean_b, var_b = moments(a_b, b_b)
    z = (mean_b - mean_a) / math.sqrt(var_a + var_b)
    return 0.5 * math.erfc(-z / math.sqrt(2))


def probability_beats(
    control_clicks: int, control_impressions: int, clicks: int, impressions: int
) -> float:
    a_a, b_a = 1 + control_clicks, 1 + max(control_impressions - control_clicks, 0)
    a_b, b_b = 1 + clicks, 1 + max(impressions - clicks, 0)
    if min(a_a, a_b) > EXACT_TERMS:
        p = _normal(a_a, b_a, a_b, b_b)
    elif a_b <= a_a:
        p = _exact(a_a, b_a, a_b, b_b)
    else:  # the same, summed over the control's (fewer) clicks
        p = 1.0 - _exact(a_b, b_b, a_a, b_a)
    return min(max(p, 0.0), 1.0)
