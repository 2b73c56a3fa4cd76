"""``jepa collect`` / ``pretrain world`` / ``plan`` end to end on tiny envs, and their errors."""

import json

import numpy as np
import pytest

from jepa_core.cli import main
from tests.helpers import tiny_table

POINT = "tests.planning.user_envs:make_point_env"
TINY_WORLD = ["--set", "model.dim=8", "--set", "options.history=2", "--set", "options.horizon=2",
              "--set", "options.hidden=16", "--set", "options.channels=[4]",
              "--set", "predictor.dim=16", "--set", "predictor.depth=1",
              "--set", "predictor.heads=2", "--set", "objective.sigreg_slices=16",
              "--set", "options.frame_skip=1", "--set", "options.stride=1", "--batch-size", "8"]
TINY_PLAN = ["--samples", "8", "--elites", "2", "--iterations", "1", "--horizon", "3"]


def _jepa(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def point_run(tmp_path_factory):
    """A world model of the test-only point env (state observations, MLP encoder)."""
    root = tmp_path_factory.mktemp("point")
    assert main(["collect", POINT, "--episodes", "6", "--steps", "8", "--out", str(root / "data")]) == 0
    assert main(["pretrain", "world", "--data", str(root / "data"), "--out", str(root / "run"),
                 "--steps", "3", *TINY_WORLD]) == 0
    return root / "run"


def test_plan__user_env_through_module_callable_prints_the_json(point_run, capsys, tmp_path):
    code, out, err = _jepa(capsys, "plan", point_run, "--env", POINT, "--episodes", "2", "--max-steps", "3",
                           "--out", tmp_path / "plan.json", *TINY_PLAN)
    assert code == 0
    progress = [ln for ln in err.splitlines() if ln.startswith(f"plan {POINT}: episode ")]
    assert [ln.split()[3] for ln in progress] == ["1/2", "2/2"] and " successes " in progress[-1]
    result = json.loads(out.strip().splitlines()[-1])
    assert {"success_rate", "random_success_rate", "plan_time_per_step_s", "episodes",
            "settings"} <= set(result)
    assert result["episodes"] == 2 and 0 <= result["success_rate"] <= 1
    assert result["settings"]["planner"]["samples"] == 8 and result["plan_time_per_step_s"] > 0
    assert json.loads((tmp_path / "plan.json").read_text()) == result


def test_plan__two_room_pixels_with_plot(capsys, tmp_path):
    assert main(["collect", "two-room", "--episodes", "4", "--steps", "6", "--out", str(tmp_path / "d")]) == 0
    assert main(["pretrain", "world", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "r"),
                 "--steps", "2", *TINY_WORLD]) == 0
    capsys.readouterr()
    code, out, _ = _jepa(capsys, "plan", tmp_path / "r", "--env", "two-room", "--episodes", "1",
                         "--max-steps", "2", "--plot", tmp_path / "p.png", *TINY_PLAN)
    assert code == 0
    result = json.loads(out.strip().splitlines()[-1])
    assert result["env"] == "two-room" and (tmp_path / "p.png").stat().st_size > 1000


@pytest.mark.parametrize("env, message", [
    ("tests.planning.user_envs:make_3d_action_env", "action dimension mismatch: env .* takes 3-D actions"),
    ("tests.planning.user_envs:make_plain_env", "not goal-conditioned"),
])
def test_plan__env_errors(point_run, capsys, env, message):
    code, _, err = _jepa(capsys, "plan", point_run, "--env", env, "--episodes", "1", *TINY_PLAN)
    assert code == 2
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    import re
    assert re.search(message, err), err


def test_plan__a_run_that_is_not_a_world_model(capsys, tmp_path):
    tiny_table().to_csv(tmp_path / "t.csv", index=False)
    assert main(["pretrain", "tabular", "--data", str(tmp_path / "t.csv"), "--out", str(tmp_path / "tab"),
                 "--steps", "1", "--batch-size", "4"]) == 0
    capsys.readouterr()
    code, _, err = _jepa(capsys, "plan", tmp_path / "tab", "--env", "two-room", "--episodes", "1")
    assert code == 2 and "is not a world model" in err and "'pooled_target'" in err


def test_pretrain_world__without_data_uses_the_cached_demo(capsys, tmp_path):
    code, out, err = _jepa(capsys, "pretrain", "world", "--out", tmp_path / "demo", "--steps", "1",
                           *TINY_WORLD)
    assert code == 0 and "world_two_room" in err
    assert json.loads(out.strip().splitlines()[-1])["steps"] == 1


def test_rollout_diagnostics__error_per_horizon_step(point_run):
    from jepa_core.planning.evaluate import load_world_model
    from modalities.world.diagnostics import rollout_errors

    loaded, model = load_world_model(point_run)
    data = loaded.cfg.data.path
    d = rollout_errors(model, data, loaded.state["options"]["frame_skip"])
    k = loaded.state["options"]["horizon"]
    assert d["horizon"] == list(range(1, k + 1)) and d["windows"] > 1
    for key in ("latent_l2", "copy_l2", "position_err", "position_err_true", "position_err_copy"):
        assert len(d[key]) == k and all(v >= 0 for v in d[key])


def test_collect__into_a_folder_of_episodes_is_refused_unless_force(capsys, tmp_path):
    out = tmp_path / "d"
    assert main(["collect", POINT, "--episodes", "3", "--steps", "4", "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    code, _, err = _jepa(capsys, "collect", POINT, "--episodes", "1", "--steps", "2", "--out", out)
    assert code == 2 and err.startswith(f"error: --out {out} already holds 3 episode files (episode_00000.npz, ")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing overwritten
    code, out_text, _ = _jepa(capsys, "collect", POINT, "--episodes", "1", "--steps", "2", "--out", out, "--force")
    assert code == 0 and json.loads(out_text)["episodes"] == 1
    assert sorted(p.name for p in out.iterdir()) == ["episode_00000.npz"]  # the old episodes are gone
