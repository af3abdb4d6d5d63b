"""Your own diffusion model as an expert, end to end: train, wrap, steer, grade.

1. Train a small diffusers ``UNet2DModel`` on the course's digits with a ``DDPMScheduler``
   (epsilon prediction), the way you would train any DDPM.
2. Wrap it with ``from_diffusers``: the sampler now sees a generative expert on its own path.
3. Steer it to a digit with the shipped reward classifier (a discriminative expert).
4. Grade the returned images with the shipped judge, a classifier the sampler never saw.

Run it:  python examples/own_diffusers_model.py --steps 1000 --digit 7   (about 4 minutes on 2 cores)
(``make test`` runs it with 300 steps: tests/test_examples.py.)

What a first try tends to get wrong, and what this recipe does instead:
- Data and scale: the images are ``data.subset("train")`` in [0, 1]; ``data.to_model`` maps them
  to [-1, 1], the range the judge and the reward classifier were trained on.
- Size: 14 x 14 halves once to 7 x 7, so two resolution levels, not the 3-4 of a 32 x 32 UNet;
  and on a CPU budget of minutes a small UNet (16/32 channels, no attention) learns faster per
  second than a wide one, which takes too few steps to learn anything.
- Steering settings: a digit is chosen early along the path, so the reward is untempered and the
  time grid even (``STEERING``; ``sample_digits`` applies them when given a reward).
- An undertrained model samples far outside [-1, 1]; the result flags such particles.
"""

from __future__ import annotations

import argparse
import time

import torch
from diffusers import DDPMScheduler, UNet2DModel
from tqdm.auto import tqdm

from poe_demo.digits import data
from poe_demo.digits.checkpoints import load_digit_models
from poe_demo.digits.steering import digit_reward, sample_digits, verdicts
from poe_demo.experts import from_diffusers
from poe_demo.runtime import configure_cpu


def small_unet() -> UNet2DModel:
    """About 100k parameters: two resolutions (14 and 7), no attention."""
    return UNet2DModel(
        sample_size=data.SIZE,
        in_channels=1,
        out_channels=1,
        block_out_channels=(16, 32),
        layers_per_block=1,
        norm_num_groups=8,
        down_block_types=("DownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "UpBlock2D"),
    )


def train(steps: int, prediction: str = "v_prediction", seed: int = 0, batch: int = 64):
    """DDPM training for ``steps`` AdamW steps: at a random timestep, predict the noise eps
    (``"epsilon"``) or v = alpha eps - sigma x_0 (``"v_prediction"``). Returns (model, scheduler)."""
    torch.manual_seed(seed)
    images = data.to_model(data.subset("train")[0])[:, None]  # [3000, 1, 14, 14] in [-1, 1]
    model, scheduler = small_unet(), DDPMScheduler(num_train_timesteps=1000, prediction_type=prediction)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(seed)
    for _ in tqdm(range(steps), desc="training the UNet", mininterval=2):
        x0 = images[torch.randint(len(images), (batch,), generator=g)]
        eps = torch.randn(x0.shape, generator=g)
        timesteps = torch.randint(0, 1000, (batch,), generator=g)
        target = eps if prediction == "epsilon" else scheduler.get_velocity(x0, eps, timesteps)
        loss = torch.nn.functional.mse_loss(model(scheduler.add_noise(x0, eps, timesteps), timesteps).sample, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval(), scheduler


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1000, help="training steps (batches of 64)")
    parser.add_argument("--prediction", choices=("epsilon", "v_prediction"), default="v_prediction",
                        help="what the UNet predicts (the scheduler's prediction_type)")  # fmt: skip
    parser.add_argument("--digit", type=int, default=7, help="the digit to steer to")
    parser.add_argument("--particles", type=int, default=16, help="L, images per steered run")
    parser.add_argument("--runs", type=int, default=8, help="steered runs (seeds) to grade")
    args = parser.parse_args(argv)
    configure_cpu()

    start = time.perf_counter()
    model, scheduler = train(args.steps, args.prediction)
    seconds = time.perf_counter() - start
    expert = from_diffusers(model, scheduler)  # our path, exactly: see README "Use your own experts"
    shipped = load_digit_models()  # the course's reward classifier and judge, any classifiers would do
    reward = digit_reward(shipped["reward"], args.digit)  # log r = 3 log p(digit | x_hat), x_hat clamped to [-1, 1]

    returned, outside = [], 0
    for seed in tqdm(range(args.runs), desc=f"steering to a {args.digit}", mininterval=2):
        result = sample_digits(expert, reward, args.particles, generator=torch.Generator().manual_seed(seed))
        outside += int(result.outside(-1.0, 1.0).sum())
        returned.append(result.best)
    judged, confidence = verdicts(shipped["judge"], torch.stack(returned))
    unsteered = sample_digits(expert, None, 64, generator=torch.Generator().manual_seed(100)).particles
    base, _ = verdicts(shipped["judge"], unsteered)
    report = {
        "training_seconds": round(seconds, 1),
        "judge_says_digit": float((judged == args.digit).double().mean()),
        "unsteered_judge_says_digit": float((base == args.digit).double().mean()),
        "judge_confidence": float(confidence.mean()),
        "particles_outside_data_range": outside / (args.runs * args.particles),
        "unsteered_pixel_range": [round(float(unsteered.min()), 2), round(float(unsteered.max()), 2)],
    }
    print(f"{args.steps} training steps in {seconds:.0f} s")
    print(f"steered to {args.digit}: the judge says {args.digit} for {report['judge_says_digit']:.2f} of "
          f"{args.runs} returned images (confidence {report['judge_confidence']:.2f}), against "
          f"{report['unsteered_judge_says_digit']:.2f} of 64 unsteered samples; "
          f"{report['particles_outside_data_range']:.0%} of the steered particles far outside [-1, 1]")  # fmt: skip
    return report


if __name__ == "__main__":
    main()
