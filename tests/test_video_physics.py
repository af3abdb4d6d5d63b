"""The bouncing-ball engine against its closed forms: the parabola, a bounce, a wall, the energy."""

import math

import numpy as np
import pytest
import torch

from poe_demo.video.physics import GRAVITY, RADIUS, REST_SPEED, BallState, advance, simulate, simulate_many

FLOOR, TOP = RADIUS, 1 - RADIUS


def _energy(position, velocity) -> float:
    return GRAVITY * position[1] + 0.5 * (velocity[0] ** 2 + velocity[1] ** 2)


def test_between_contacts_the_ball_flies_on_the_exact_parabola():
    start = BallState((0.3, 0.6), (0.4, 0.5), 0.8)
    positions, velocities = simulate(start, 4, 0.05)  # the apex is at 0.6 + 0.5^2 / 16, far below the top
    t = np.arange(4) * 0.05
    assert np.allclose(positions[:, 0], 0.3 + 0.4 * t, atol=1e-12, rtol=0)
    assert np.allclose(positions[:, 1], 0.6 + 0.5 * t - 0.5 * GRAVITY * t**2, atol=1e-12, rtol=0)
    assert np.allclose(velocities[:, 1], 0.5 - GRAVITY * t, atol=1e-12, rtol=0)


@pytest.mark.parametrize("e", [0.5, 0.8, 1.0])
def test_a_dropped_ball_leaves_the_floor_at_e_times_its_impact_speed(e):
    h = 0.7
    impact = math.sqrt(2 * (h - FLOOR) / GRAVITY)
    up = e * GRAVITY * impact  # speed just after the bounce
    for after in (0.01, 0.5 * up / GRAVITY, 1.9 * up / GRAVITY):  # rising, at the apex, falling again
        ball = advance(BallState((0.5, h), (0.0, 0.0), e), impact + after)
        assert ball.velocity[1] == pytest.approx(up - GRAVITY * after, abs=1e-9)
        assert ball.position[1] == pytest.approx(FLOOR + up * after - 0.5 * GRAVITY * after**2, abs=1e-9)
    apex = advance(BallState((0.5, h), (0.0, 0.0), e), impact + up / GRAVITY)
    assert apex.position[1] - FLOOR == pytest.approx(e**2 * (h - FLOOR), abs=1e-9)  # heights scale by e^2


def test_a_wall_reverses_the_horizontal_speed_times_e_and_keeps_the_vertical():
    start = BallState((0.8, 0.5), (1.0, 0.0), 0.6)
    hit = (TOP - 0.8) / 1.0
    ball = advance(start, hit + 0.05)
    assert ball.velocity[0] == pytest.approx(-0.6, abs=1e-12)
    assert ball.position[0] == pytest.approx(TOP - 0.6 * 0.05, abs=1e-12)
    t = hit + 0.05
    assert ball.velocity[1] == pytest.approx(-GRAVITY * t, abs=1e-12)  # gravity never noticed the wall


def test_a_ball_on_a_surface_moving_into_it_bounces_at_once():
    """Where a frame ends exactly at a contact, the next frame starts there: the contact is at t = 0."""
    ball = advance(BallState((0.5, FLOOR), (0.0, -1.0), 0.8), 0.05)
    assert ball.velocity[1] == pytest.approx(0.8 - GRAVITY * 0.05, abs=1e-12)
    ball = advance(BallState((TOP, 0.5), (2.0, 0.0), 0.5), 0.1)
    assert ball.position[0] == pytest.approx(TOP - 0.1, abs=1e-12)


def _random_states(n, e_range, seed):
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(n, 5, generator=g, dtype=torch.float64).numpy()
    inside = lambda u: FLOOR + (TOP - FLOOR) * u  # noqa: E731
    e_low, e_high = e_range
    e = lambda u: e_low + (e_high - e_low) * u  # noqa: E731
    return [BallState((inside(a), inside(b)), (6 * c - 3, 6 * d - 3), e(f)) for a, b, c, d, f in u]


def test_energy_is_conserved_at_e_1_and_never_grows_below():
    for state in _random_states(200, (1.0, 1.0), seed=0):
        positions, velocities = simulate(state, 30, 0.1)  # 3 s: dozens of contacts, ceiling included
        energies = [_energy(p, v) for p, v in zip(positions, velocities)]
        assert max(energies) - min(energies) < 1e-9, state
    for state in _random_states(200, (0.0, 0.95), seed=1):
        positions, velocities = simulate(state, 30, 0.1)
        energies = np.array([_energy(p, v) for p, v in zip(positions, velocities)])
        assert (np.diff(energies) <= 1e-9).all(), state
        assert ((positions >= FLOOR - 1e-12) & (positions <= TOP + 1e-12)).all()


def test_advancing_twice_is_advancing_once_by_the_sum():
    """Contacts that fall on a frame boundary, or straddle it, must not be lost or counted twice."""
    for state in _random_states(100, (0.3, 1.0), seed=2):
        for a, b in [(0.37, 0.81), (0.05, 1.4)]:
            once, twice = advance(state, a + b), advance(advance(state, a), b)
            assert np.allclose(once.position, twice.position, atol=1e-9), state
            assert np.allclose(once.velocity, twice.velocity, atol=1e-9), state


def test_slow_bounces_end_in_rest_and_the_ball_slides():
    ball = advance(BallState((0.2, 0.5), (0.1, 0.0), 0.5), 5.0)  # bounce heights shrink by 4 each time
    assert ball.position[1] == FLOOR and ball.velocity[1] == 0.0
    assert ball.position[0] == pytest.approx(0.2 + 0.1 * 5.0, abs=1e-12)
    assert REST_SPEED > 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"position": (0.0, 0.5), "velocity": (0, 0), "restitution": 0.5}, "position must keep the ball in the box"),
        ({"position": (0.5, 0.5), "velocity": (math.nan, 0), "restitution": 0.5}, "velocity must be finite"),
        ({"position": (0.5, 0.5), "velocity": (0, 0), "restitution": 1.5}, r"restitution must be in \[0, 1\]"),
    ],
)
def test_impossible_states_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BallState(**kwargs)


def test_bad_durations_and_frame_counts_are_refused():
    ball = BallState((0.5, 0.5), (0, 0), 0.5)
    with pytest.raises(ValueError, match="duration must be >= 0, got -1"):
        advance(ball, -1)
    with pytest.raises(ValueError, match="n_frames must be an integer >= 1, got 0"):
        simulate(ball, 0, 0.1)


def test_many_balls_run_together_move_as_each_alone():
    """One engine run for many balls: a ball that is done (or resting, or between contacts) must
    wait untouched while the others finish their contacts."""
    states = _random_states(50, (0.0, 1.0), seed=4) + [BallState((0.5, FLOOR), (0.3, 0.0), 0.7)]  # one at rest
    starts = np.array([[*s.position, *s.velocity, s.restitution] for s in states])
    together, speeds = simulate_many(starts, 12, 0.1)
    for k in (0, 7, 31, 50):
        alone, alone_speeds = simulate_many(starts[k : k + 1], 12, 0.1)
        assert np.array_equal(together[k], alone[0]) and np.array_equal(speeds[k], alone_speeds[0])


def test_a_start_outside_the_box_is_named():
    starts = np.array([[0.5, 0.5, 0.0, 0.0, 0.8], [0.5, 1.2, 0.0, 0.0, 0.8]])
    with pytest.raises(ValueError, match=r"start 1 = \[0.5, 1.2, 0.0, 0.0, 0.8\] is not a ball in the box"):
        simulate_many(starts, 4, 0.1)
    with pytest.raises(ValueError, match=r"starts must be \[n, 5\]"):
        simulate_many(starts[:, :4], 4, 0.1)
