"""Sequential Monte Carlo utilities: log-weights, effective sample size and resampling.

Weights are kept as logarithms and normalised by subtracting their max and then their
log-sum-exp, so rewards of size 1e4 neither overflow nor turn into NaN.

Every resampler has one signature, ``resampler(weights [L], n, generator) -> indices [n]``,
with normalised weights, and the expected number of copies of particle l is ``n * w_l``.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .rng import rand

__all__ = [
    "normalize_log_weights",
    "effective_sample_size",
    "multinomial",
    "systematic",
    "stratified",
    "residual",
    "RESAMPLERS",
    "resample",
    "reweight",
]


def normalize_log_weights(log_weights: Tensor) -> Tensor:
    """log W_l = log w_l - log sum_m w_m: ``[L] -> [L]``, so that sum_l W_l = 1.

    The max is subtracted first, so the largest weight becomes exactly 0 before the sum; adding
    it back (as logsumexp alone would) costs float32 its last digits at log-weights of 1e4.
    """
    shifted = log_weights - log_weights.max()
    return shifted - torch.logsumexp(shifted, dim=0)


def effective_sample_size(log_weights: Tensor) -> Tensor:
    """ESS = (sum_l w_l)^2 / sum_l w_l^2 = 1 / sum_l W_l^2, in [1, L].

    Computed as exp(-LSE(2 log W)) from the normalised log W, whose entries are O(log L)
    whatever the scale of the rewards, so float32 keeps its precision.
    """
    return torch.exp(-torch.logsumexp(2 * normalize_log_weights(log_weights), dim=0))


def _inverse_cdf(weights: Tensor, u: Tensor) -> Tensor:
    """Index of the particle whose slice of the cumulative weights holds each sorted u in [0, 1)."""
    cdf = torch.cumsum(weights, dim=0)
    return torch.searchsorted(cdf, u * cdf[-1], right=True).clamp_max(len(weights) - 1)


def multinomial(weights: Tensor, n: int, generator: torch.Generator | None = None) -> Tensor:
    """n independent draws from Categorical(w): the simplest scheme and the noisiest."""
    return _inverse_cdf(weights, torch.sort(rand(n, weights, generator)).values)


def stratified(weights: Tensor, n: int, generator: torch.Generator | None = None) -> Tensor:
    """One uniform draw in each of the n strata [i/n, (i+1)/n)."""
    return _inverse_cdf(
        weights, (torch.arange(n, dtype=weights.dtype, device=weights.device) + rand(n, weights, generator)) / n
    )


def systematic(weights: Tensor, n: int, generator: torch.Generator | None = None) -> Tensor:
    """Like stratified, with one uniform shared by every stratum: copies of l are floor or ceil of n w_l."""
    return _inverse_cdf(
        weights, (torch.arange(n, dtype=weights.dtype, device=weights.device) + rand(1, weights, generator)) / n
    )


def residual(weights: Tensor, n: int, generator: torch.Generator | None = None) -> Tensor:
    """floor(n w_l) deterministic copies of each particle, the remaining slots drawn multinomially."""
    copies = torch.floor(n * weights).long()
    kept = torch.repeat_interleave(torch.arange(len(weights), device=weights.device), copies)
    n_rest = n - int(copies.sum())
    if n_rest == 0:
        return kept
    rest = n * weights - copies
    return torch.cat([kept, multinomial(rest / rest.sum(), n_rest, generator)])


RESAMPLERS: dict[str, Callable[[Tensor, int, torch.Generator | None], Tensor]] = {
    "multinomial": multinomial,
    "systematic": systematic,
    "stratified": stratified,
    "residual": residual,
}


def resample(log_weights: Tensor, scheme: str = "systematic", generator: torch.Generator | None = None) -> Tensor:
    """Ancestor indices ``[L]`` for log-weights ``[L]`` with the named scheme."""
    if scheme not in RESAMPLERS:
        raise ValueError(f"unknown resampling scheme {scheme!r}; use one of {', '.join(RESAMPLERS)}")
    weights = torch.exp(normalize_log_weights(log_weights))
    return RESAMPLERS[scheme](weights, len(weights), generator)


def reweight(log_weights: Tensor, log_increment: Tensor) -> tuple[Tensor, Tensor]:
    """Multiply normalised weights by exp(increment): returns (new normalised log W ``[L]``, log Z ratio).

    The log of sum_l W_l exp(increment_l) is the estimate of Z_k / Z_{k-1}, the ratio of the
    normalisers of consecutive targets; summed over the levels it estimates log Z. A particle of
    zero weight keeps it, whatever its increment (-inf - -inf would be NaN). With every weight
    zero the result is NaN: callers check.
    """
    unnormalized = torch.where(torch.isneginf(log_weights), log_weights, log_weights + log_increment)
    return normalize_log_weights(unnormalized), torch.logsumexp(unnormalized, dim=0)
