import copy

import pytest
import torch

from jepa_core.config import ModelConfig
from jepa_core.models import Encoder
from jepa_core.targets import TargetProvider
from tests.toy_modality import ToyTokenizer

CFG = ModelConfig(dim=16, depth=1, heads=2)


def test_ema__update_is_the_momentum_formula():
    student = Encoder(ToyTokenizer(4, 16), CFG)
    target = TargetProvider("ema", student)
    before = copy.deepcopy(target.encoder.state_dict())
    with torch.no_grad():
        for p in student.parameters():
            p.add_(1.0)
    target.update(student, 0.9)
    for name, p in target.encoder.named_parameters():
        s = dict(student.named_parameters())[name]
        torch.testing.assert_close(p, 0.9 * before[name] + 0.1 * s)
    assert not any(p.requires_grad for p in target.encoder.parameters())


def test_none__targets_carry_gradients_to_the_student():
    student = Encoder(ToyTokenizer(4, 16), CFG)
    target = TargetProvider("none", student)
    x = torch.randn(3, 4)
    out = target(x, student, student.tokenize(x))
    assert out.requires_grad


def test_frozen__needs_a_teacher_and_never_moves():
    student = Encoder(ToyTokenizer(4, 16), CFG)
    with pytest.raises(ValueError, match="frozen"):
        TargetProvider("frozen", student)
    teacher = Encoder(ToyTokenizer(4, 16), CFG)
    target = TargetProvider("frozen", student, teacher)
    before = copy.deepcopy(teacher.state_dict())
    target.update(student, 0.5)
    assert all(torch.equal(before[k], v) for k, v in teacher.state_dict().items())


def test_target_provider__unknown_kind():
    with pytest.raises(ValueError, match="target.kind"):
        TargetProvider("teacher", Encoder(ToyTokenizer(4, 16), CFG))


def test_create_target__registered_kinds():
    from jepa_core.config import ConfigError
    from jepa_core.targets import EmaTarget, NoTarget, create_target

    student = Encoder(ToyTokenizer(4, 16), CFG)
    assert isinstance(create_target("ema", student), EmaTarget)
    assert create_target("none", student).kind == "none"
    assert isinstance(create_target("none", student), NoTarget)
    with pytest.raises(ConfigError, match=r"unknown target 'teacher' \(target\.kind\); "
                                                    r"registered: ema, frozen, none"):
        create_target("teacher", student)


def test_create_target__built_from_its_section():
    from jepa_core.config import build_config
    from jepa_core.targets import EmaTarget, FrozenTarget, create_target

    student = Encoder(ToyTokenizer(4, 16), CFG)
    ema = create_target(build_config({"target": {"momentum": [0.5, 1.0]}}).target, student)
    assert isinstance(ema, EmaTarget) and ema.momentum_at(50, 100) == 0.75
    assert create_target("none", student).momentum_at(50, 100) == 1.0
    frozen = create_target({"kind": "frozen", "frozen_run": "r"}, student, Encoder(ToyTokenizer(4, 16), CFG))
    assert isinstance(frozen, FrozenTarget) and (frozen.frozen_run, frozen.frozen_hf) == ("r", None)


@pytest.mark.parametrize("target, message", [
    ({"kind": "frozen"}, r"target.kind=frozen needs a teacher, and none is set: target.frozen_run=RUN_DIR "
                         r"\(a `jepa pretrain` run of the same modality\) or target.frozen_hf=PATH"),
    ({"kind": "frozen", "frozen_run": "a", "frozen_hf": "b"}, r"takes one teacher, got both"),
])
def test_frozen_teacher__says_what_is_missing(target, message):
    from jepa_core.config import build_config
    from jepa_core.run import RunError, frozen_teacher
    from tests.toy_modality import ToyModality

    with pytest.raises(RunError, match=message):
        frozen_teacher(build_config({"target": target}), ToyModality(), {"num_features": 4})
