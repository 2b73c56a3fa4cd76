"""CEM and MPPI: batched and unbatched rollouts agree; both reach a goal under known dynamics."""

import pytest
import torch

from jepa_core.planning.planners import LatentPlanner
from jepa_core.planning.settings import PlannerConfig


def integrator(z_history, actions):
    """Known dynamics ``z[t+1] = z[t] + 0.1 * a[t]`` in a 2-D latent space."""
    h = z_history.shape[1]
    steps = actions[:, h - 1:]
    return z_history[:, -1:] + 0.1 * steps.cumsum(1)


@pytest.mark.parametrize("method", ["cem", "mppi"])
def test_planner__batched_equals_unbatched(method):
    low, high = -torch.ones(2), torch.ones(2)
    z, past, goal = torch.zeros(1, 2), torch.zeros(0, 2), torch.tensor([0.5, -0.3])
    plans = []
    for batched in (True, False):
        cfg = PlannerConfig(method=method, horizon=5, samples=32, iterations=3, elites=4, batched=batched)
        plans.append(LatentPlanner(integrator, low, high, cfg, seed=3).plan(z, past, goal))
    assert torch.allclose(plans[0], plans[1], atol=1e-6)


def test_planner__energies_batched_equal_unbatched_with_a_real_predictor():
    from jepa_core.models.action_predictor import ActionPredictor, ActionPredictorConfig

    torch.manual_seed(0)
    p = ActionPredictor(4, 2, 6, ActionPredictorConfig(dim=16, depth=1, heads=2)).eval()
    cand = torch.rand(16, 4, 2) * 2 - 1
    z, past, goal = torch.randn(2, 4), torch.randn(1, 2), torch.randn(4)
    e = [LatentPlanner(p.rollout, -torch.ones(2), torch.ones(2),
                       PlannerConfig(horizon=4, samples=16, elites=4, batched=b)).energies(z, past, cand, goal)
         for b in (True, False)]
    assert torch.allclose(e[0], e[1], atol=1e-5)


@pytest.mark.parametrize("method", ["cem", "mppi"])
def test_planner__mpc_reaches_the_goal_under_known_dynamics(method):
    cfg = PlannerConfig(method=method, horizon=6, samples=64, iterations=4, elites=8, energy="all")
    planner = LatentPlanner(integrator, -torch.ones(2), torch.ones(2), cfg, seed=0)
    z, goal = torch.zeros(2), torch.tensor([0.4, -0.25])
    for _ in range(15):
        a = planner.plan(z[None], torch.zeros(0, 2), goal)[0]
        z = z + 0.1 * a
    assert torch.linalg.norm(z - goal) < 0.05


def test_planner_settings__are_checked():
    with pytest.raises(ValueError, match="elites <= samples"):
        PlannerConfig(samples=4, elites=8).validate()
    with pytest.raises(ValueError, match="planner method"):
        PlannerConfig(method="sgd").validate()


def test_planner__segments_make_the_noise_piecewise_constant():
    cfg = PlannerConfig(horizon=6, samples=8, elites=2, segments=2)
    planner = LatentPlanner(integrator, -10 * torch.ones(2), 10 * torch.ones(2), cfg, seed=0)
    cand = planner.sample(torch.zeros(6, 2), torch.ones(6, 2))
    assert torch.equal(cand[1:, 0], cand[1:, 2]) and torch.equal(cand[1:, 3], cand[1:, 5])
    assert not torch.equal(cand[1:, 0], cand[1:, 3])
    assert torch.equal(cand[0], torch.zeros(6, 2))  # the mean is always a candidate
