"""Memory estimates that refuse oversized runs before anything is allocated."""

import pytest

from poe_demo.resources import WORKING_STATES, available_memory, check_memory, format_bytes, sampler_memory


def test_estimate_grows_with_the_state_the_trajectory_and_the_levels():
    base = sampler_memory(1000, 10)
    assert base == 1000 * 4 * WORKING_STATES + 11 * 128
    assert sampler_memory(1000, 10, keep_trajectory=True) - base == 1000 * 4 * 11
    assert sampler_memory(1000, 10, element_size=8) > base


def test_activations_count_twice_where_the_allocator_keeps_freed_memory(monkeypatch):
    from poe_demo import allocator

    monkeypatch.setattr(allocator, "_thresholds", allocator._RETURN)
    returned = sampler_memory(1000, 10, network_bytes=10**6) - sampler_memory(1000, 10)
    monkeypatch.setattr(allocator, "_thresholds", allocator._KEEP)
    kept = sampler_memory(1000, 10, network_bytes=10**6) - sampler_memory(1000, 10)
    assert (returned, kept) == (10**6, 2 * 10**6)


def test_check_names_the_request_and_the_limit():
    assert available_memory() > 0
    check_memory(1, "a tiny run")
    with pytest.raises(ValueError, match=r"^--points 7 needs about 1e\+06 TB of memory, more than the .* available$"):
        check_memory(10**18, "--points 7")


@pytest.mark.parametrize("n, text", [(512, "512 B"), (1500, "1.5 KB"), (2.5e9, "2.5 GB"), (3e15, "3e+03 TB")])
def test_format_bytes(n, text):
    assert format_bytes(n) == text


PEAK_SCRIPT = """
import json, sys, torch
from poe_demo.runtime import configure_cpu
from poe_demo.digits.checkpoints import load_digit_models
from poe_demo.digits.compose import digit_experts, parse_product
from poe_demo.digits.steering import digit_reward, noise, sample_digits
from poe_demo.experts import network_memory
from poe_demo.resources import sampler_memory
from poe_demo.samplers import ais_batch
configure_cpu(keep_freed_memory=sys.argv[2] == "kept")
n = int(sys.argv[1])
models = load_digit_models()
experts = parse_product("flow_01234 * flow_02468 / flow_all", digit_experts(models))
x = noise(n, torch.Generator().manual_seed(0))
batch = ais_batch(n, 1, state_numbers=x[0].numel())
estimate = sampler_memory(x.numel(), 4, network_bytes=network_memory(experts, x, batch))
def resident():
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f if line.startswith(("VmRSS", "VmHWM")))
    return {k: int(v.split()[0]) * 1024 for k, v in fields.items()}
del x
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = resident()["VmRSS"]
sample_digits(experts, digit_reward(models["reward"], 4), n, 4, 1, torch.Generator().manual_seed(1))
print(json.dumps({"estimate": estimate, "peak": resident()["VmHWM"] - before}))
"""


@pytest.mark.parametrize(  # L a factor of 4 apart: the estimate must scale; and both allocator settings
    "n_particles, freed",
    [(256, "kept"), (1024, "kept"), (256, "returned")],  # returned runs slower: small
)
def test_the_estimate_with_network_activations_is_within_2x_of_the_measured_peak(n_particles, freed):
    """A real run of the digits' AND product in a fresh process, its peak resident memory above
    where it started (Linux's VmHWM): the state-only estimate missed the networks' activations,
    about four times the state, and let a 23 GB request through. With freed memory kept (what
    configure_cpu sets), the peak was up to 2x the activations of one call: CI measured 332 MB at
    L = 1024 against an estimate of 164 MB that counted them once."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("needs Linux's /proc to measure a peak")
    done = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(n_particles), freed], capture_output=True, text=True,
                          timeout=600, env={**__import__("os").environ, "TQDM_DISABLE": "1"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    assert 0.5 <= measured["estimate"] / measured["peak"] <= 2, measured
    states_only = sampler_memory(n_particles * 14 * 14, 4)
    assert states_only < measured["peak"] / 2  # what the check used to count: the bug this test pins
