"""Composing image experts with exponents: AND, NOT, guidance, and a 7 asked four ways.

    python benchmarks/compose.py [--quick] [--out DIR]

Writes ``compose.json`` to benchmarks/results/; ``report.py`` renders it into benchmarks/README.md
and a line of README.md.

Every row is one composition of the shipped digit experts (``poe_demo.digits.compose``), sampled
on the same seeds by the annealed sampler (exact weights, resampled by weight before grading)
and by Euler on V = sum_i w_i v_i with at least as many expert evaluations
(``poe_demo.digits.comparison.compare_samplers``), graded by the judge against held-out real
images of the asked classes (``poe_demo.digits.grading``): the judge's classes, the share in the
asked set with its standard error over the seeds, the judge's confidence, the ink, a Fréchet
distance on the judge's features and the distance to the nearest training image, and seconds.

* products: the plain product of the {0-4} and {0, 2, 4, 6, 8} experts, the all-digits expert
  squared (the shared part counted twice, on its own), AND, NOT and guidance on AND;
* a 7 four ways: classifier-free guidance by Euler, the same product by the annealed sampler,
  the classifier reward on the all-digits expert, and guidance with the reward;
* guidance per digit: g = 2 toward each digit, both samplers.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

import torch
from common import RESULTS, write_json

from poe_demo.digits.checkpoints import load_digit_models
from poe_demo.digits.comparison import compare_samplers
from poe_demo.digits.compose import AND, NOT, and_guidance, digit_experts, guidance, parse_product
from poe_demo.digits.grading import frechet_distance, ink, judge_features, nearest_distance, real_images
from poe_demo.digits.pictures import plot_digits
from poe_demo.digits.steering import digit_reward, noise
from poe_demo.runtime import configure_cpu
from poe_demo.samplers import annealed_importance_sampling, euler
from poe_demo.smc import resample

EVENS = (0, 2, 4)
PRODUCTS = {
    "flow_01234 * flow_02468 (plain product)": ("flow_01234 * flow_02468", EVENS),
    "flow_all^2 (the shared part twice)": ("flow_all^2", tuple(range(10))),
    f"{AND} (AND)": (AND, EVENS),
    f"{NOT} (NOT)": (NOT, (5, 6, 7, 8, 9)),
    **{f"{and_guidance(g)} (AND, guidance {g:g})": (and_guidance(g), EVENS) for g in (1.5, 2.0, 3.0)},
}


def _rounded(row) -> dict:
    out = asdict(row)
    grade = out.pop("grade")
    grade["classes"] = [round(c, 4) for c in grade["classes"]]
    return {**{k: round(v, 4) for k, v in grade.items() if k != "classes"}, "classes": grade["classes"],
            **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}}  # fmt: skip


def real_reference(models: dict, asked: tuple[int, ...]) -> dict:
    """The grades' floor: real training images of ``asked`` against the held-out ones (Fréchet), their ink and
    their distance to the nearest other training image."""
    judge = models["judge"]
    train, test = real_images("train", asked), real_images("test", asked)
    everything = real_images("train", tuple(range(10)))
    return {
        "frechet": round(frechet_distance(judge_features(judge, train), judge_features(judge, test)), 4),
        "ink": round(float(ink(train).mean()), 4),
        "nearest_train_of_held_out": round(float(nearest_distance(test, everything).mean()), 4),
    }


def picture(models: dict, experts: dict, path: Path, n_steps: int) -> None:
    """Eight images of AND and of NOT from each sampler (seed 0), one row each: the README's picture."""
    rows, labels = [], []
    for name, expression in (("AND", AND), ("NOT", NOT)):
        product = parse_product(expression, experts)
        rows.append(euler(product, noise(8, torch.Generator().manual_seed(0)), n_steps).particles)
        g = torch.Generator().manual_seed(0)
        annealed = annealed_importance_sampling(product, None, noise(16, g), n_steps, 2, generator=g)
        rows.append(annealed.particles[resample(annealed.log_weights, "systematic", g)][:8])
        labels += [f"{name}, Euler", f"{name}, annealed"]
    title = "AND = flow_01234 * flow_02468 / flow_all (0, 2, 4); NOT = flow_all^2 / flow_01234 (5-9)"
    plot_digits(torch.cat(rows), columns=8, row_labels=labels, title=title, path=path)


def seven_rows(models: dict, compare, n_particles: int) -> dict:
    """A 7 three ways: guidance 2, the reward on flow_all, and both."""
    cfg = guidance(7, 2.0)
    reward = digit_reward(models["reward"], 7)
    seven = {
        f"guidance 2 ({cfg})": compare(cfg, (7,)),
        # one expert instead of two: twice the particles for the same expert evaluations
        "reward on flow_all": compare("flow_all", (7,), reward, 2 * n_particles),
        "guidance 2 and reward": compare(cfg, (7,), reward),
    }
    print("seven", seven, flush=True)
    return seven


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two seeds of four particles, 8 levels (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--only", choices=("seven",), help="re-run one block, keeping the others' stored results")
    args = parser.parse_args()
    configure_cpu()
    models = load_digit_models()
    experts = digit_experts(models)
    # 8 seeds of 32 particles: 256 graded annealed images per row (Euler: 8 x 157); per digit, 4 of 16.
    # --quick runs every row on a few particles and levels: it checks the script, not the numbers.
    quick = (range(2), 4, range(1), 8)
    seeds, n_particles, per_digit, n_steps = quick if args.quick else (range(8), 32, range(4), 32)
    settings = {"seeds": len(seeds), "n_particles": n_particles, "n_steps": n_steps, "n_mcmc_steps": 2,
                "per_digit": {"seeds": len(per_digit), "n_particles": n_particles // 2}}  # fmt: skip

    def compare(expression, asked, reward=None, particles=n_particles, on=seeds):
        product = parse_product(expression, experts)
        rows = compare_samplers(models["judge"], product, asked, on, particles, n_steps, 2, reward=reward)
        return {name: _rounded(row) for name, row in rows.items()}

    name = "compose_quick.json" if args.quick else "compose.json"
    if args.only:  # the stored run's other blocks, unchanged (same settings): e.g. after a reward changed
        payload = json.loads((args.out / name).read_text())
        payload.pop("machine", None)
        if payload["settings"] != settings:
            raise SystemExit(f"--only needs the stored run's settings, {payload['settings']}, got {settings}")
        payload["seven"] = seven_rows(models, compare, n_particles)
        print(f"wrote {write_json(name, payload, directory=args.out)}")
        return
    payload = {"settings": settings, "products": {}, "seven": {}, "guidance_per_digit": {}, "real": {}}
    for name_, (expression, asked) in PRODUCTS.items():
        payload["products"][name_] = {"asked": list(asked), **compare(expression, asked)}
        print(name_, payload["products"][name_], flush=True)
    payload["real"] = {"0, 2, 4": real_reference(models, EVENS), "5-9": real_reference(models, (5, 6, 7, 8, 9)),
                       "7": real_reference(models, (7,))}  # fmt: skip

    payload["seven"] = seven_rows(models, compare, n_particles)
    for digit in range(10):
        payload["guidance_per_digit"][str(digit)] = compare(
            guidance(digit, 2.0), (digit,), None, n_particles // 2, per_digit
        )
        print("guidance", digit, payload["guidance_per_digit"][str(digit)], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    picture(models, experts, args.out / ("compose_quick.png" if args.quick else "compose.png"), n_steps)
    print(f"wrote {write_json(name, payload, directory=args.out)}")


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()
