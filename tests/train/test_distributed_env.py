"""Launcher environment, strategy choice and whole-state conversion, in one process."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from jepa_core.config import DistConfig, OptimConfig
from jepa_core.train.distributed import DistEnv, env_from_launcher, init_distributed
from jepa_core.train.optim import build_optimizer
from jepa_core.train.parallel import full_optimizer_state, full_state_dict, load_full_state, wrap_model
from tests.helpers import run_in_own_process

LAUNCHER_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


@pytest.fixture
def launcher(monkeypatch):
    for name in LAUNCHER_VARS:
        monkeypatch.delenv(name, raising=False)

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
    return set_env


def test_env_from_launcher__defaults_to_one_process(launcher):
    assert env_from_launcher() == DistEnv(0, 1, 0)
    assert not env_from_launcher().distributed


def test_env_from_launcher__reads_torchrun_variables(launcher):
    launcher(RANK="1", WORLD_SIZE="2", LOCAL_RANK="1")
    env = env_from_launcher()
    assert env == DistEnv(1, 2, 1) and env.distributed and not env.is_main


@pytest.mark.parametrize("values, message", [
    ({"WORLD_SIZE": "2"}, "RANK is not"),
    ({"RANK": "2", "WORLD_SIZE": "2"}, "inconsistent"),
    ({"RANK": "zero", "WORLD_SIZE": "2"}, "not an integer"),
])
def test_env_from_launcher__bad_environment_is_an_error(launcher, values, message):
    launcher(**values)
    with pytest.raises(ValueError, match=message):
        env_from_launcher()


def test_init_distributed__nccl_on_cpu_is_an_error():
    with pytest.raises(ValueError, match="nccl needs CUDA"):
        init_distributed(DistEnv(0, 2, 0), torch.device("cpu"), "nccl")


def test_wrap_model__one_process_is_the_plain_model_and_strategy_is_checked():
    model = nn.Linear(2, 2)
    assert wrap_model(model, DistConfig("fsdp"), DistEnv(), torch.device("cpu")) is model
    with pytest.raises(ValueError, match="dist.strategy"):
        wrap_model(model, DistConfig("zero3"), DistEnv(), torch.device("cpu"))


def _trained(seed: int):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    opt = build_optimizer(model, OptimConfig())
    model(torch.randn(5, 3)).square().sum().backward()
    opt.step()
    return model, opt


def test_whole_states__same_form_as_plain_state_dicts_and_round_trip():
    model, opt = _trained(0)
    plain = opt.state_dict()
    state = full_optimizer_state(model, opt)
    assert [g["params"] for g in state["param_groups"]] == [g["params"] for g in plain["param_groups"]]
    assert state["state"].keys() == plain["state"].keys()
    weights = {k: v.clone() for k, v in full_state_dict(model).items()}
    assert weights.keys() == model.state_dict().keys()

    other, other_opt = _trained(1)
    load_full_state(other, other_opt, weights, state)
    assert all(torch.equal(other.state_dict()[k], weights[k]) for k in weights)
    loaded = other_opt.state_dict()
    for pid, pstate in plain["state"].items():
        for key, value in pstate.items():
            assert torch.equal(loaded["state"][pid][key], value), (pid, key)


def test_load_full_state__optimizer_of_another_model_is_an_error():
    model, opt = _trained(0)
    state = full_optimizer_state(model, opt)
    state["param_groups"][0]["params"] = state["param_groups"][0]["params"][:-1]
    with pytest.raises(ValueError, match="another model configuration"):
        load_full_state(model, opt, full_state_dict(model), state)


def check_a_rank_that_never_joins_is_one_error_line() -> None:
    """Run by the test below in a process of its own: the failed join leaves a store and
    gloo threads behind that later in-process groups must not meet."""
    import os
    import socket

    from jepa_core.train import distributed
    from jepa_core.train.trainer import TrainingError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    distributed.JOIN_TIMEOUT_S = 1.0
    with pytest.raises(TrainingError) as err:
        distributed.init_distributed(DistEnv(rank=0, world_size=2), torch.device("cpu"), timeout_s=0.5)
    message = str(err.value)
    assert message.startswith(f"rank 0 of 2 could not join the gloo process group at 127.0.0.1:{port} within 1 s: ")
    assert "\n" not in message and not torch.distributed.is_initialized()


def test_init_distributed__a_rank_that_never_joins_is_one_error_line():
    run_in_own_process(__name__, "check_a_rank_that_never_joins_is_one_error_line")
