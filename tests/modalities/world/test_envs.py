"""The built-in rooms envs and env lookup (names, module:callable, the goal convention)."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from jepa_core.planning.envs import EnvError, check_goal_conditioned, make_env
from modalities.world.envs import ThreeRoomEnv, TwoRoomEnv


def test_two_room__passes_the_gymnasium_env_checker():
    check_env(TwoRoomEnv(size=16), skip_render_check=True)
    check_env(TwoRoomEnv(obs_type="state"), skip_render_check=True)


def test_two_room__goal_convention_and_different_rooms():
    env = TwoRoomEnv(size=16)
    for seed in range(10):
        obs, info = env.reset(seed=seed)
        assert info["goal_obs"].shape == obs.shape == (16, 16, 3) and obs.dtype == np.uint8
        assert env.room_of(info["state"]) != env.room_of(info["goal_state"])
        assert np.array_equal(info["goal_obs"], env.render_state(env.goal))
    assert info["is_success"] is False


def test_two_room__success_within_radius_ends_the_episode():
    env = TwoRoomEnv(obs_type="state", goal_mode="any")
    env.reset(seed=0)
    env.goal = env.pos + np.array([0.0, 0.02]) if env.pos[1] < 0.9 else env.pos - np.array([0.0, 0.02])
    _, reward, terminated, _, info = env.step(np.zeros(2))
    assert info["is_success"] and terminated and reward == 1.0


def test_two_room__wall_blocks_and_door_lets_through():
    env = TwoRoomEnv(obs_type="state")
    env.reset(seed=0)
    env.pos = np.array([0.3, 0.1])  # below the door: the wall stops the agent
    for _ in range(20):
        env.step(np.array([1.0, 0.0]))
    assert env.pos[0] < 0.5
    env.pos = np.array([0.3, 0.5])  # level with the door: it passes
    for _ in range(20):
        env.step(np.array([1.0, 0.0]))
    assert env.pos[0] > 0.5


def test_two_room__actions_are_clipped():
    env = TwoRoomEnv(obs_type="state")
    env.reset(seed=1)
    env.pos = np.array([0.2, 0.2])
    env.step(np.array([100.0, 0.0]))
    assert env.pos[0] == pytest.approx(0.2 + env.max_step)


def test_make_env__names_gymnasium_and_module_callable():
    assert isinstance(make_env("two-room").unwrapped, TwoRoomEnv)
    assert isinstance(make_env("three-room").unwrapped, ThreeRoomEnv)
    assert isinstance(gym.make("two-room").unwrapped, TwoRoomEnv)
    env = make_env("tests.planning.user_envs:make_point_env")
    assert env.action_space.shape == (2,)


@pytest.mark.parametrize("spec, message", [
    ("tests.planning.user_envs:make_not_an_env", "not a gymnasium.Env"),
    ("tests.planning.user_envs:missing", "has no attribute 'missing'"),
    ("no_such_module_xyz:make", "cannot import module"),
    ("no-such-env", "unknown env 'no-such-env'"),
])
def test_make_env__bad_specs(spec, message):
    with pytest.raises(EnvError, match=message):
        make_env(spec)


def test_goal_convention__an_env_without_goal_obs_is_refused():
    env = make_env("tests.planning.user_envs:make_plain_env")
    obs, info = env.reset(seed=0)
    with pytest.raises(EnvError, match="not goal-conditioned.*goal_obs"):
        check_goal_conditioned(env, obs, info, "plain")
