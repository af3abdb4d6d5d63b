"""The annealed importance sampler written for clarity, not speed: the same algorithm as
``poe_demo.samplers.annealed_importance_sampling`` (the start scaled to N(0, 1 / m) on
coordinates shared by m experts, with its constant weight,
incremental weights at the ODE output with the quadratically tempered reward and the trapezoid
rule of the velocity mismatch, MALA steps with Simpson's rule in the Metropolis ratio, their size
set per level by the largest curvature among the particles (probed at the first Langevin level,
then the previous level's largest secant curvature times (t / t_next)^2), a reward test on the
move, systematic resampling when the ESS falls below L/2), but one particle and one expert call
at a time in Python loops. It is the baseline
``bench_sampler.py`` divides by; its samples agree with the batched sampler's in distribution.
"""

from __future__ import annotations

import math

import torch

from poe_demo.samplers import time_grid


def _evaluate(experts, x, t):
    """Summed velocity V and score for one particle, and the mismatch sum_i <s_i, V - v_i>."""
    pairs = [(e.velocity(x[None], t)[0], e.score(x[None], t)[0]) for e in experts]  # a batch of one particle
    v = sum(v_i for v_i, _ in pairs)
    return v, sum(s_i for _, s_i in pairs), sum(float((s_i * (v - v_i)).sum()) for v_i, s_i in pairs)


def _start(experts, x):
    """The start x / sqrt(m) on coordinates modelled by m experts (N(0, 1 / m), the product of their N(0, 1)
    up to a constant) and its log-weight log prod_i p_{i,1} - log N(0, 1 / m): sum of ((1 - m) log 2 pi - log m) / 2."""
    covering = sum((e.score(x[None], 1.0)[0] != 0).double() for e in experts).clamp_min(1)
    log_w = float((0.5 * ((1 - covering) * math.log(2 * math.pi) - covering.log())).sum())
    return x / covering.sqrt().to(x.dtype), log_w


def _lam(t):
    return (1 - t) ** 2


def _reward(rewards, x, v, t):
    x_hat = x - t * v  # the library divides v by the experts' count per coordinate: the same for one expert
    return sum(float(r.log_reward(x_hat[None])[0]) for r in rewards)


def _curvature(experts, x, s, t, g):
    """|s(x + d u) - s(x)| / (d |u|) along random signs u, for one particle."""
    u = torch.where(torch.randn(x.shape, generator=g) < 0, -1.0, 1.0)
    s_probe = sum(e.score((x + 1e-3 * u)[None], t)[0] for e in experts)
    return float((s_probe - s).norm() / (1e-3 * u.norm()))


def _mala(experts, rewards, x, v, s, m, t, n_steps, h, g):
    """MALA with step h on one particle, then the tempered reward test on the whole move.

    Returns (x, v, mismatch, reward) after the move and the largest secant curvature met."""
    x0, v0, m0, r0 = x, v, m, _reward(rewards, x, v, t)
    secant = 0.0
    for _ in range(n_steps):
        xi = torch.randn(x.shape, generator=g)
        z = x + h * s + math.sqrt(2 * h) * xi
        v_z, s_z, m_z = _evaluate(experts, z, t)
        s_mid = sum(e.score((0.5 * (x + z))[None], t)[0] for e in experts)
        log_density = ((s + 4 * s_mid + s_z) * (z - x)).sum() / 6  # Simpson's rule along the step
        log_alpha = log_density - ((x - z - h * s_z) ** 2).sum() / (4 * h) + 0.5 * (xi**2).sum()
        secant = max(secant, float((s_z - s).norm() / (z - x).norm()))
        if math.log(float(torch.rand(1, generator=g))) < float(log_alpha):
            x, v, s, m = z, v_z, s_z, m_z
    r = _reward(rewards, x, v, t)
    if math.log(float(torch.rand(1, generator=g))) < _lam(t) * (r - r0):
        return (x, v, m, r), secant
    return (x0, v0, m0, r0), secant


@torch.no_grad()
def reference_ais(experts, rewards, x_init, n_steps, n_mcmc_steps, step_size=0.5, generator=None):
    """Returns (particles [L, ...], normalized log-weights [L])."""
    g = generator
    n = x_init.shape[0]
    times = time_grid(n_steps).tolist()
    xs, vs, rs, ms, log_w = [], [], [], [], []
    carried = None  # the largest secant curvature of the previous level's proposals
    for p in range(n):
        x, start_log_w = _start(experts, x_init[p])
        v, _, m = _evaluate(experts, x, 1.0)
        xs.append(x)
        vs.append(v)
        ms.append(m)
        rs.append(_reward(rewards, x, v, 1.0))
        log_w.append(start_log_w)
    for k in range(n_steps + 1):
        if k > 0:
            t, t_next = times[k - 1], times[k]
            moved = []
            for p in range(n):
                w = xs[p] + (t_next - t) * vs[p]
                if t_next == 0:  # no scores at t = 0, so no mismatch term on the last step
                    r_w = sum(float(r.log_reward(w[None])[0]) for r in rewards)
                    log_w[p] += r_w - _lam(t) * rs[p]
                    xs[p], rs[p] = w, r_w
                    continue
                v_w, s_w, m_w = _evaluate(experts, w, t_next)
                r_w = _reward(rewards, w, v_w, t_next)
                log_w[p] += _lam(t_next) * r_w - _lam(t) * rs[p] + (t_next - t) * 0.5 * (ms[p] + m_w)
                xs[p], vs[p], rs[p], ms[p] = w, v_w, r_w, m_w
                moved.append(s_w)
            if moved and n_mcmc_steps > 0:
                if carried is None:
                    kappa = max(_curvature(experts, xs[p], moved[p], t_next, g) for p in range(n))
                else:
                    kappa = carried * (t / t_next) ** 2
                h = step_size / (kappa * xs[0].numel() ** (1 / 3))
                carried = 0.0
                for p in range(n):
                    (xs[p], vs[p], ms[p], rs[p]), secant = _mala(
                        experts, rewards, xs[p], vs[p], moved[p], ms[p], t_next, n_mcmc_steps, h, g
                    )
                    carried = max(carried, secant)
        top = max(log_w)
        weights = [math.exp(lw - top) for lw in log_w]
        total = sum(weights)
        weights = [w / total for w in weights]
        if 1.0 / sum(w * w for w in weights) < 0.5 * n:
            u, cumulative, idx, j = float(torch.rand(1, generator=g)), 0.0, [], 0
            for i in range(n):
                target = (i + u) / n
                while cumulative + weights[j] < target and j < n - 1:
                    cumulative += weights[j]
                    j += 1
                idx.append(j)
            xs, vs, rs, ms = [xs[i] for i in idx], [vs[i] for i in idx], [rs[i] for i in idx], [ms[i] for i in idx]
            log_w = [0.0] * n
    log_w = torch.tensor(log_w)
    return torch.stack(xs), log_w - torch.logsumexp(log_w, 0)
