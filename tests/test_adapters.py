"""Models trained on other paths, wrapped as experts: exact against closed forms, and against diffusers itself."""

import math

import pytest
import torch
from helpers import gen

from poe_demo import GaussianExpert, annealed_importance_sampling
from poe_demo.experts import DiscreteSchedule, FlowSchedule, ModelExpert, from_diffusers
from poe_demo.samplers import ode_step

diffusers = pytest.importorskip("diffusers")

MU, SIGMA_DATA = 0.7, 0.6  # Gaussian data N(MU, SIGMA_DATA^2) per coordinate: every predictor is known
N_TRAIN = 1000


class ExactGaussianModel(torch.nn.Module):
    """The perfect model for Gaussian data, on its own path: it reads alpha and sigma off its timestep
    the way its training did (VP: the table at an integer timestep; flow: sigma = timestep / N) and
    returns the exact posterior mean of what it predicts. It refuses timesteps that are not trained
    ones on the VP path, so a wrong time map cannot pass unnoticed."""

    def __init__(self, prediction, alphas_cumprod=None):
        super().__init__()
        self.prediction, self.abar = prediction, alphas_cumprod
        self.register_buffer("dtype_probe", torch.zeros((), dtype=torch.float64))
        self.calls = []

    def parameters(self, recurse=True):
        yield self.dtype_probe

    def forward(self, y, timestep):
        step = float(timestep[0])
        self.calls.append(step)
        if self.abar is None:
            sigma = step / N_TRAIN
            alpha = 1 - sigma
        else:
            n = round(step)
            assert abs(step - n) < 1e-6, f"asked for timestep {step}, not a trained one"
            alpha, sigma = math.sqrt(self.abar[n]), math.sqrt(1 - self.abar[n])
        var_y = alpha**2 * SIGMA_DATA**2 + sigma**2
        x_0 = MU + alpha * SIGMA_DATA**2 / var_y * (y - alpha * MU)
        eps = sigma / var_y * (y - alpha * MU)
        return {
            "epsilon": eps,
            "sample": x_0,
            "v_prediction": alpha * eps - sigma * x_0,
            "flow": eps - x_0,
        }[self.prediction]


def _ddpm(prediction="epsilon"):
    return diffusers.DDPMScheduler(num_train_timesteps=N_TRAIN, prediction_type=prediction, clip_sample=False)


def _trained_time(abar):
    return math.sqrt(1 - abar) / (math.sqrt(abar) + math.sqrt(1 - abar))


VP_CASES = [("epsilon", n) for n in (0, 17, 400, 999)] + [(p, n) for p in ("v_prediction", "sample") for n in (3, 500)]


@pytest.mark.parametrize("prediction, n", VP_CASES)
def test_variance_preserving_models_give_the_exact_velocity_and_score(prediction, n):
    scheduler = _ddpm(prediction)
    abar = scheduler.alphas_cumprod.double().tolist()
    expert = from_diffusers(ExactGaussianModel(prediction, abar), scheduler)
    t = _trained_time(abar[n])
    x = torch.randn(64, 3, generator=gen(n), dtype=torch.float64)
    exact = GaussianExpert(MU, SIGMA_DATA)
    v, s = expert.velocity_and_score(x, t)
    torch.testing.assert_close(v, exact.velocity(x, t), rtol=1e-6, atol=0)
    torch.testing.assert_close(s, exact.score(x, t), rtol=1e-6, atol=0)
    assert expert.model.calls[-1] == pytest.approx(n, abs=1e-6)


@pytest.mark.parametrize("t", [0.02, 0.5, 0.93, 1.0])
def test_flow_matching_models_give_the_exact_velocity_and_score(t):
    expert = from_diffusers(ExactGaussianModel("flow"), diffusers.FlowMatchEulerDiscreteScheduler())
    x = torch.randn(64, 3, generator=gen(7), dtype=torch.float64)
    exact = GaussianExpert(MU, SIGMA_DATA)
    torch.testing.assert_close(expert.velocity(x, t), exact.velocity(x, t), rtol=1e-6, atol=0)
    torch.testing.assert_close(expert.score(x, t), exact.score(x, t), rtol=1e-6, atol=0)
    assert expert.model.calls[-1] == pytest.approx(t * N_TRAIN)


def test_between_trained_timesteps_the_timestep_is_interpolated_in_log_snr():
    abar = _ddpm().alphas_cumprod.double()
    seen = []

    def spy(y, timestep):
        seen.append(float(timestep[0]))
        return torch.zeros_like(y)

    expert = ModelExpert(spy, DiscreteSchedule(abar), "epsilon")
    for n in (5, 321, 998):
        log_snr = torch.log(abar / (1 - abar))
        mid = 0.5 * float(log_snr[n] + log_snr[n + 1])  # halfway in log-SNR: timestep n + 1/2
        t = 1 / (1 + math.exp(mid / 2))  # (1 - t) / t = exp(log_snr / 2)
        expert.velocity(torch.zeros(2, 1, dtype=torch.float64), t)
        assert seen[-1] == pytest.approx(n + 0.5, abs=1e-6)


def test_outside_the_trained_range_the_nearest_level_is_used_or_refused():
    scheduler = _ddpm()
    abar = scheduler.alphas_cumprod.double().tolist()
    low, high = _trained_time(abar[0]), _trained_time(abar[-1])
    expert = from_diffusers(ExactGaussianModel("epsilon", abar), scheduler)
    assert expert.schedule.t_range == pytest.approx((low, high))
    x = torch.randn(256, 2, generator=gen(1), dtype=torch.float64)
    v, s = expert.velocity_and_score(x, 1.0)
    assert expert.model.calls[-1] == N_TRAIN - 1
    torch.testing.assert_close(s, -x, rtol=1e-12, atol=1e-12)  # the score at pure noise, whatever the model
    # the velocity carried from t = 0.9937: off by about the gap in t
    error = (v - GaussianExpert(MU, SIGMA_DATA).velocity(x, 1.0)).norm() / v.norm()
    assert 1e-4 < error < 2 * (1 - high)
    expert.velocity(x, 1e-4)
    assert expert.model.calls[-1] == 0
    strict = from_diffusers(ExactGaussianModel("epsilon", abar), scheduler, clamp=False)
    with pytest.raises(ValueError, match=r"t=1 is outside the model's trained range \[0.0099"):
        strict.velocity(x, 1.0)


def test_bad_schedules_and_predictions_are_named():
    with pytest.raises(ValueError, match="strictly decreasing"):
        DiscreteSchedule([0.5, 0.9])
    with pytest.raises(ValueError, match="prediction must be one of"):
        ModelExpert(lambda y, s: y, FlowSchedule(), "noise")
    with pytest.raises(ValueError, match="epsilon prediction cannot give x_0 at t = 1"):
        ModelExpert(lambda y, s: y, FlowSchedule(), "epsilon")
    with pytest.raises(TypeError, match="scheduler must be a diffusers scheduler"):
        from_diffusers(lambda y, s: y, object())
    with pytest.raises(ValueError, match="returned shape"):
        ModelExpert(lambda y, s: y[:, :1], FlowSchedule(), "flow").velocity(torch.zeros(2, 3), 0.5)
    with pytest.raises(TypeError, match="schedule must offer t_range, level"):
        ModelExpert(lambda y, s: y, "flow", "flow")  # the schedule's name, not a schedule


def test_a_schedule_of_ones_own_follows_the_protocol():
    # Any object with t_range, level(t) and end(t) is a schedule: here the flow path written out by hand.
    class MyFlow:
        t_range = (0.0, 1.0)

        def level(self, t):
            return 1000 * t, 1 - t, t

        def end(self, t):
            return self.level(min(max(t, 0.0), 1.0))

    model = lambda y, s: y * 0.3 - 1.0  # noqa: E731
    x = torch.randn(5, 3, generator=gen(8), dtype=torch.float64)
    mine, theirs = ModelExpert(model, MyFlow(), "flow"), ModelExpert(model, FlowSchedule(), "flow")
    for t in (1.0, 0.6, 0.05):
        for a, b in zip(mine.velocity_and_score(x, t), theirs.velocity_and_score(x, t)):
            torch.testing.assert_close(a, b)


def _tiny_unet(seed=0):
    torch.manual_seed(seed)  # diffusers initialises from the global generator
    return diffusers.UNet2DModel(
        sample_size=8,
        in_channels=1,
        out_channels=1,
        block_out_channels=(8, 16),
        layers_per_block=1,
        norm_num_groups=4,
        down_block_types=("DownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "UpBlock2D"),
    ).eval()


@pytest.mark.parametrize("prediction", ["epsilon", "v_prediction", "sample"])
def test_x_hat_matches_the_schedulers_own_prediction_of_the_clean_sample(prediction):
    unet, scheduler = _tiny_unet(), _ddpm(prediction)
    expert = from_diffusers(unet, scheduler)
    for n in (10, 600):
        abar = float(scheduler.alphas_cumprod[n])
        t, scale = _trained_time(abar), math.sqrt(abar) + math.sqrt(1 - abar)
        y = torch.randn(3, 1, 8, 8, generator=gen(n))
        with torch.no_grad():
            theirs = scheduler.step(unet(y, n).sample, n, y).pred_original_sample
        x = y / scale
        ours = x - t * expert.velocity(x, t)
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)


def test_a_flow_matching_euler_step_is_ours():
    unet, scheduler = _tiny_unet(1), diffusers.FlowMatchEulerDiscreteScheduler(num_train_timesteps=N_TRAIN)
    scheduler.set_timesteps(8)
    expert = from_diffusers(unet, scheduler)
    y = torch.randn(2, 1, 8, 8, generator=gen(4))
    for i in (0, 5):
        sigma, sigma_next, timestep = float(scheduler.sigmas[i]), float(scheduler.sigmas[i + 1]), scheduler.timesteps[i]
        with torch.no_grad():  # as diffusers' pipelines call it: a float tensor (a Python float would be truncated)
            theirs = scheduler.step(unet(y, timestep).sample, timestep, y).prev_sample
        ours = ode_step(y, expert.velocity(y, sigma), sigma, sigma_next)
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)
        scheduler._step_index = None  # step() advances an internal index; each check starts afresh


def test_two_tiny_unets_run_through_the_annealed_sampler():
    experts = [from_diffusers(_tiny_unet(2), _ddpm()), from_diffusers(_tiny_unet(3), _ddpm("v_prediction"))]
    result = annealed_importance_sampling(
        experts, None, torch.randn(6, 1, 8, 8, generator=gen(5)), n_steps=6, n_mcmc_steps=1, generator=gen(6)
    )
    assert result.particles.shape == (6, 1, 8, 8)
    assert bool(torch.isfinite(result.particles).all()) and math.isfinite(result.log_normalizer)
    assert result.acceptance.shape == (6,) and bool((result.acceptance > 0).any())
