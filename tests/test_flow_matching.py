"""The shared flow-matching loop learns the exact velocity of Gaussian data, and averages its weights."""

import torch
from torch import nn

from poe_demo.flow_matching import train_flow_matching


class _MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 64), nn.SiLU(), nn.Linear(64, 64), nn.SiLU(), nn.Linear(64, 1))

    def forward(self, x, timestep):
        t = torch.as_tensor(timestep, dtype=x.dtype).expand(x.shape[0]) / 1000
        return self.net(torch.cat([x, t[:, None]], 1))


def test_the_learned_velocity_is_the_closed_form_for_gaussian_data():
    """x_0 ~ N(m, s^2): E[eps - x_0 | x_t = x] = -m + (t - (1 - t) s^2) / ((1 - t)^2 s^2 + t^2) (x - (1 - t) m)."""
    m, s = 0.5, 0.3
    g = torch.Generator().manual_seed(0)
    data = m + s * torch.randn(4000, 1, generator=g)
    torch.manual_seed(0)
    net, losses = train_flow_matching(_MLP(), data, 3000, 512, 3e-3, 0.99, g, "test", progress=False)
    for t in (0.3, 0.6, 0.9):
        spread = ((1 - t) ** 2 * s**2 + t**2) ** 0.5  # x_t's standard deviation: test where x_t has mass
        x = (1 - t) * m + spread * torch.linspace(-1.5, 1.5, 11)[:, None]
        exact = -m + (t - (1 - t) * s**2) / ((1 - t) ** 2 * s**2 + t**2) * (x - (1 - t) * m)
        with torch.no_grad():
            assert torch.allclose(net(x, 1000 * t), exact, atol=0.08), (t, net(x, 1000 * t) - exact)
    assert sum(losses[-100:]) < sum(losses[:100])


def test_an_average_weight_of_zero_returns_the_last_step_and_predict_sees_the_batch_rows():
    data = torch.arange(10.0)[:, None]
    seen = []

    def predict(net, x_t, timestep, rows):
        seen.append(rows.clone())
        return net(x_t, timestep)

    torch.manual_seed(0)
    net = _MLP()
    average, _ = train_flow_matching(net, data, 5, 4, 1e-3, 0.0, torch.Generator().manual_seed(1), "t", False, predict)
    assert all(torch.equal(a, p) for a, p in zip(average.parameters(), net.parameters()))
    assert len(seen) == 5 and all(r.shape == (4,) and r.max() < 10 for r in seen)
