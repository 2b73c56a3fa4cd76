"""Typed run configuration: dataclass sections, sectioned YAML files, ``--set a.b=c``.

A run is described by one :class:`Config`. Defaults come from the dataclasses, then the
modality plugin's own defaults, then a YAML file, then ``--set`` overrides; the result is
saved as ``config.yaml`` in the run directory so ``embed``/``probe``/``--resume`` rebuild
the same model. Unknown keys are errors that list the valid ones.

Component sections (``mask:``, ``predictor:``, ``pooling:``, ``method:``) hold ``name``
plus the fields of that component's own config dataclass (:class:`ComponentConfig`),
and are validated against it: ``mask: {name: random_subset, context_ratio: 0.5}``. The
``target:`` section is the same but names its provider by ``kind`` (its base is
:class:`TargetConfig`): ``target: {kind: ema, momentum: [0.996, 1.0]}``. A later layer
that changes the name keeps only the fields the new component shares with the old one
(see :func:`build_config`). Configs saved before component sections existed still load,
and the old spellings (``model.predictor_dim``, ``model.pooling``, ...) still work in
any layer (:func:`upgrade_legacy`).

The coercion is written here rather than with OmegaConf structured configs: a component
section's schema is chosen by a name that may come from any layer and from a plugin
found at run time, and every error names the key with the valid keys on one line.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from .presets import apply_model_preset


@dataclass
class DataConfig:
    """Where samples come from and how they are batched."""

    path: str | None = None
    batch_size: int = 256
    num_workers: int = 0


@dataclass
class ComponentConfig:
    """Base of every component's own config dataclass: the section names its component.

    A component (masker, training method, ...) declares ``config_class``, a dataclass
    deriving from this one with its own fields, all with defaults. The run config's
    section for that kind (e.g. ``mask:``) holds ``name`` plus those fields and is
    validated against the chosen component's class (see :func:`build_config`).
    ``renamed`` maps old field names still accepted on input to their new names.

    Examples:
        >>> @dataclass
        ... class SpanConfig(ComponentConfig):
        ...     span: int = 4
        >>> SpanConfig(name="span", span=8)
        SpanConfig(name='span', span=8)
    """

    name: str = ""
    renamed: ClassVar[dict[str, str]] = {}


@dataclass
class TargetConfig:
    """Base of every target provider's config dataclass: the ``target:`` section.

    Like :class:`ComponentConfig`, but the provider is named by ``kind`` (``ema``,
    ``frozen``, ``none`` or a registered one), as in ``--set target.kind=frozen``. A
    provider's ``config_class`` derives from this one and adds its own fields, all
    with defaults (``ema`` adds ``momentum``; ``frozen`` adds ``frozen_run`` and
    ``frozen_hf``).
    """

    kind: str = ""
    renamed: ClassVar[dict[str, str]] = {}


#: Fields that left ``model:`` for their component's own section: old key -> (section, field).
MOVED_MODEL_KEYS: dict[str, tuple[str, str]] = {
    "predictor": ("predictor", "name"),
    "predictor_dim": ("predictor", "dim"),
    "predictor_depth": ("predictor", "depth"),
    "predictor_heads": ("predictor", "heads"),
    "pooling": ("pooling", "name"),
}


@dataclass
class ModelConfig:
    """Transformer sizes of the encoder (``mlp_ratio`` and ``dropout`` also the predictor's).

    The predictor's sizes and the pooling have their own sections (``predictor:``,
    ``pooling:``); their old keys here (``predictor_dim``, ``pooling``, ...) are still
    accepted in config files and ``--set`` (see :data:`MOVED_MODEL_KEYS`).
    """

    dim: int = 64
    depth: int = 4
    heads: int = 4
    mlp_ratio: float = 4.0
    num_registers: int = 0
    dropout: float = 0.0
    attention_window: int = 0
    init_hf: str | None = None  # a transformers I-JEPA checkpoint folder: the encoder's initialization
    preset: str | None = None  # a ViT size (jepa_core.presets): sets the sizes above, winning over them

    def __getattr__(self, name: str) -> Any:  # only called for attributes it does not have
        if name in MOVED_MODEL_KEYS:
            section, key = MOVED_MODEL_KEYS[name]
            raise AttributeError(f"model.{name} moved to {section}.{key} (cfg.{section}.{key})")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


@dataclass
class ObjectiveConfig:
    """Latent prediction loss and the weights of the anti-collapse regularizers.

    ``terms`` configures objective terms that declare their own ``config_class``:
    ``{name: {field: value}}`` (``--set objective.terms.NAME.FIELD=V``), validated against
    that term's schema (see :func:`objective_term_config`).
    """

    loss: str = "smooth_l1"
    normalize_targets: bool = True
    standardize_targets: bool = False
    type_weights: list[float] = field(default_factory=list)  # by TokenBatch.types id; past the end: 1
    empty_weight: float | None = None  # deprecated alias of type_weights[1]; wins when set
    sigreg: float = 0.0
    sigreg_slices: int = 256
    vicreg_variance: float = 0.0
    vicreg_covariance: float = 0.0
    variance_hinge: float = 0.0
    hinge_gamma: float = 1.0
    regularizers: dict[str, float] = field(default_factory=dict)  # any registered one: {name: weight}
    terms: dict[str, dict[str, Any]] = field(default_factory=dict)  # {term name: its config_class fields}


@dataclass
class OptimConfig:
    """Optimizer and schedules; ``epochs`` or ``steps`` count the whole run.

    The learning rate's warmup + cosine and the weight decay's cosine span the whole run,
    or only its first ``schedule_steps`` steps (``warmup`` is then a share of those) after
    which both hold their final values: a longer run is then the shorter one continued at
    ``min_lr`` instead of the same schedule stretched.
    """

    epochs: int | None = 20
    steps: int | None = None
    lr: float = 1e-3
    min_lr: float = 1e-5
    warmup: float = 0.05
    schedule_steps: int | None = None
    weight_decay: tuple[float, float] = (0.04, 0.1)
    clip_grad: float | None = 1.0
    seed: int = 0
    device: str = "auto"
    amp: bool = True  # bf16 autocast on CUDA
    cpu_amp: bool = False  # bf16 autocast on the CPU too (fast where it has AMX / AVX512-BF16)


@dataclass
class LoggingConfig:
    """How often to log and checkpoint, the online probe, and where scalars go besides
    ``metrics.jsonl``.

    With ``probe_label`` set (``--probe-label``) the target encoder is probed every
    ``probe_every`` steps (``None``: every 10% of the run) on at most ``probe_samples``
    samples of ``probe_data`` (``None``: ``data.path``), by the ``probe`` kind (``knn``,
    ``linear`` or ``attentive``); see :mod:`jepa_core.train.online_probe`.

    ``tensorboard: true`` writes the same scalars as TensorBoard events under
    ``RUN/tensorboard`` (needs ``pip install 'jepa-core[tensorboard]'``); ``wandb:
    offline`` (or ``online``) logs them to Weights & Biases, offline runs under
    ``RUN/wandb`` (``pip install 'jepa-core[wandb]'``; ``wandb sync`` uploads them later).
    """

    log_every: int = 10
    checkpoint_every: int = 200
    progress: bool = True
    probe_label: str | None = None
    probe_data: str | None = None
    probe: str = "knn"
    probe_every: int | None = None
    probe_samples: int = 2000
    tensorboard: bool = False
    wandb: str | None = None
    wandb_project: str = "jepa-core"


@dataclass
class DistConfig:
    """Data-parallel strategy under torchrun: ``ddp`` or ``fsdp`` (FSDP2 ``fully_shard``).

    ``timeout_s`` bounds every collective (a stalled rank fails the job after it);
    every ``heartbeat_every`` steps (0: only after a collective timed out) the ranks meet
    at a monitored barrier that names the ranks that did not arrive.
    """

    strategy: str = "ddp"
    backend: str | None = None
    timeout_s: float = 600.0
    heartbeat_every: int = 10


@dataclass
class Config:
    """A whole run. ``modality`` names the plugin; ``options`` holds that plugin's own
    section, validated by the plugin (its ``options_class``)."""

    modality: str = "tabular"
    data: DataConfig = field(default_factory=DataConfig)
    mask: ComponentConfig = field(default_factory=lambda: default_component("mask"))
    model: ModelConfig = field(default_factory=ModelConfig)
    predictor: ComponentConfig = field(default_factory=lambda: default_component("predictor"))
    pooling: ComponentConfig = field(default_factory=lambda: default_component("pooling"))
    target: TargetConfig = field(default_factory=lambda: default_component("target"))
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    dist: DistConfig = field(default_factory=DistConfig)
    options: dict[str, Any] = field(default_factory=dict)
    method: ComponentConfig = field(default_factory=lambda: default_component("method"))


class ConfigError(ValueError):
    """A config key or value that does not fit the schema."""


def _coerce(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, where)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if errors else f"{where}: bad value {value!r}")
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a section (mapping), got {value!r}")
        return from_dict(tp, value, where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise ConfigError(f"{where}: expected {len(args)} values, got {value!r}")
        return tuple(_coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if origin is list:
        if isinstance(value, str):
            value = [v for v in value.split(",") if v]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return [_coerce(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        if len(args) == 2 and args[1] is not Any:
            return {k: _coerce(v, args[1], f"{where}.{k}") for k, v in value.items()}
        return dict(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    return value


def from_dict(cls: type, data: dict, where: str = "config") -> Any:
    """Build dataclass ``cls`` from a mapping, checking every key and value type.

    Examples:
        >>> from_dict(ModelConfig, {"dim": 32}).dim
        32
    """
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; valid keys: {sorted(names)}")
    kwargs = {k: (component_config(k, v, f"{where}.{k}") if hints[k] in (ComponentConfig, TargetConfig)
                  else _coerce(v, hints[k], f"{where}.{k}")) for k, v in data.items()}
    return cls(**kwargs)


def to_dict(cfg: Any) -> dict:
    """A plain, YAML-friendly mapping (tuples become lists)."""

    def plain(v: Any) -> Any:
        if dataclasses.is_dataclass(v):
            return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(cfg)


def merge(base: dict, update: dict) -> dict:
    """Recursive mapping merge; ``update`` wins."""
    out = dict(base)
    for k, v in update.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def parse_overrides(items: list[str]) -> dict:
    """Turn ``["optim.lr=3e-4", "mask.target_scale=[0.1,0.2]"]`` into a nested mapping.

    Values are read as YAML, so numbers, booleans, lists and ``null`` work; a value that is
    not valid YAML on its own (``,``, ``[x``), or a lone ``|`` or ``>``, is the plain string.

    Examples:
        >>> parse_overrides(["optim.lr=3e-4", "model.depth=2"])
        {'optim': {'lr': 0.0003}, 'model': {'depth': 2}}
        >>> parse_overrides(["options.delimiter=,"])
        {'options': {'delimiter': ','}}
    """
    out: dict = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {item!r}")
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            value = raw
        if raw.strip() in ("|", ">"):  # YAML block-scalar marks, which it reads as ''
            value = raw.strip()
        if isinstance(value, str) and _looks_numeric(value):
            value = float(value)
        node = out
        parts = key.strip().split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return out


def _looks_numeric(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def load_yaml(path: str | Path) -> dict:
    """Read a sectioned YAML config file into a mapping, with a clear error for bad files."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {p} does not exist")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        what = getattr(e, "problem", None) or str(e)
        context, cmark = getattr(e, "context", None), getattr(e, "context_mark", None)
        if context and cmark is not None:
            context = f"{context} at line {cmark.line + 1}, column {cmark.column + 1}"
        reason = " ".join(f"{what} ({context})".split() if context else what.split())
        raise ConfigError(f"config file {p}{where}: not valid YAML: {reason}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {p} must hold a mapping of sections")
    return data


def build_config(*layers: dict) -> Config:
    """Merge mappings left to right and validate them into a :class:`Config`.

    Each layer is first upgraded from the old spellings (see :func:`upgrade_legacy`). A
    layer that names another component for a component section (``mask.name``,
    ``target.kind``, ``predictor.name``, ...) than the layers before it keeps only the
    earlier values of fields the new component also has; the others (e.g. a plugin's
    ``random_subset`` ratios under ``--set mask.name=multiblock``) are dropped, and the
    new component's defaults fill in. Within one layer the order of keys does not matter.
    The settings of objective terms (``objective.terms``) are checked against their
    terms' schemas.

    Examples:
        >>> plugin = {"mask": {"name": "random_subset", "context_ratio": 0.4}}
        >>> build_config(plugin, {"mask": {"num_targets": 2, "name": "multiblock"}}).mask.num_targets
        2
        >>> build_config(plugin, {"mask": {"name": "bev"}}).mask.context_ratio
        0.4
    """
    data: dict = {}
    for layer in layers:
        layer = upgrade_legacy(layer or {})
        for section, (_, default) in COMPONENT_SECTIONS.items():
            new, old, key = layer.get(section), data.get(section), selector(section)
            if isinstance(new, dict) and isinstance(old, dict) and key in new \
                    and new[key] != old.get(key, default):
                keep = _field_names(section, new[key])
                data = {**data, section: {k: v for k, v in old.items() if k in keep}}
        data = merge(data, layer)
    cfg = from_dict(Config, data)
    try:
        apply_model_preset(cfg)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    check_sizes(cfg)
    for name, values in cfg.objective.terms.items():
        objective_term_config(name, values)
    return cfg


#: Sizes that must be at least 1 (integers) or above 0 (numbers), with the flag that sets them.
POSITIVE_SIZES = {"data.batch_size": "--batch-size", "model.dim": None, "model.depth": None,
                  "model.heads": None, "model.mlp_ratio": None, "predictor.dim": None,
                  "predictor.depth": None, "predictor.heads": None,
                  "optim.steps": "--steps", "optim.epochs": "--epochs", "logging.log_every": None,
                  "logging.checkpoint_every": None, "objective.sigreg_slices": None}
#: Sizes that may be 0 but not negative.
NON_NEGATIVE_SIZES = ("data.num_workers", "model.num_registers", "model.attention_window",
                      "model.dropout")


def _lookup(cfg: Any, key: str) -> Any:
    node = cfg
    for part in key.split("."):
        node = getattr(node, part, None)
    return node


def check_sizes(cfg: Config) -> None:
    """Raise a :class:`ConfigError` for a size that cannot build a model or a batch.

    Unset optional sizes (``optim.steps: null``) and keys a section does not have (a
    predictor without ``dim``, say) are skipped.

    Examples:
        >>> check_sizes(build_config({"model": {"dim": 32}}))
        >>> check_sizes(from_dict(Config, {"model": {"depth": 0}}))
        Traceback (most recent call last):
        ...
        jepa_core.config.ConfigError: model.depth must be at least 1, got 0
    """
    for key, flag in POSITIVE_SIZES.items():
        value = _lookup(cfg, key)
        if isinstance(value, (int, float)) and not value > 0:
            name = f"{key} ({flag})" if flag else key
            low = "at least 1" if isinstance(value, int) else "above 0"
            raise ConfigError(f"{name} must be {low}, got {value}")
    for key in NON_NEGATIVE_SIZES:
        value = _lookup(cfg, key)
        if isinstance(value, (int, float)) and value < 0:
            raise ConfigError(f"{key} must be 0 or more, got {value}")
    dim, heads = _lookup(cfg, "model.dim"), _lookup(cfg, "model.heads")
    for d, h, prefix in ((dim, heads, "model."), (_lookup(cfg, "predictor.dim"),
                                                 _lookup(cfg, "predictor.heads"), "predictor.")):
        if isinstance(d, int) and isinstance(h, int) and d % h:
            raise ConfigError(f"{prefix}dim {d} does not split into {prefix}heads {h} heads; "
                              f"pick a {prefix}dim that is a multiple of {prefix}heads")
    dropout = _lookup(cfg, "model.dropout")
    if isinstance(dropout, float) and dropout >= 1:
        raise ConfigError(f"model.dropout must be below 1, got {dropout}")


def save_config(cfg: Config, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(to_dict(cfg), sort_keys=False))


# -- component sections ------------------------------------------------------------------

#: Config sections that name a component: section -> (registry kind, default name).
COMPONENT_SECTIONS: dict[str, tuple[str, str]] = {
    "mask": ("masker", "multiblock"),
    "predictor": ("predictor", "masked"),
    "pooling": ("pooling", "mean"),
    "target": ("target", "ema"),
    "method": ("method", "masked"),
}

#: The key naming the component, for the sections where it is not ``name``.
SELECTORS: dict[str, str] = {"target": "kind"}


def selector(section: str) -> str:
    """The key of component section ``section`` that names its component (``name``,
    or ``kind`` for ``target``)."""
    return SELECTORS.get(section, "name")


def _component_class(section: str, name: str, where: str) -> type:
    from .registry import UnknownComponentError, get_registry

    try:
        return get_registry(COMPONENT_SECTIONS[section][0]).config_class(name)
    except UnknownComponentError as e:
        raise ConfigError(f"{where}.{selector(section)}: {e.args[0]}") from None


def _field_names(section: str, name: Any) -> set[str]:
    """Field names (old spellings included) of component ``name``; empty when unknown."""
    try:
        cls = _component_class(section, name, section)
    except (ConfigError, TypeError):
        return set()
    fields = {f.name for f in dataclasses.fields(cls)}
    return fields | {old for old, new in cls.renamed.items() if new in fields}


def _owners(section: str, key: str, but: str) -> list[str]:
    from .registry import get_registry

    return [n for n in get_registry(COMPONENT_SECTIONS[section][0]).list()
            if n != but and key in _field_names(section, n)]


def component_config(section: str, data: dict | ComponentConfig | TargetConfig,
                     where: str | None = None) -> ComponentConfig | TargetConfig:
    """Validate a component section (``mask``, ``predictor``, ``pooling``, ``target``,
    ``method``) against its component's schema.

    ``data["name"]`` (``data["kind"]`` for ``target``; default: the section's default
    component) picks the registered component; every other key must be a field of that
    component's ``config_class``.

    Examples:
        >>> component_config("mask", {"name": "random_subset", "target_ratio": 0.3})
        RandomSubsetConfig(name='random_subset', context_ratio=0.5, target_ratio=0.3)
        >>> component_config("mask", {"name": "bev", "num_targets": 2})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        jepa_core.config.ConfigError: mask.num_targets is not a field of masker 'bev' (...
        >>> component_config("mask", {"name": "temporal", "temporal_frames": 2})  # 0.1 spelling
        TemporalConfig(name='temporal', frames=2, span='last')
        >>> component_config("target", {"kind": "ema", "frozen_run": "x"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        jepa_core.config.ConfigError: target.frozen_run is not a field of target 'ema' (it is one of: frozen); ...
    """
    where = where or section
    if isinstance(data, (ComponentConfig, TargetConfig)):
        return data
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a section (mapping), got {data!r}")
    kind, default = COMPONENT_SECTIONS[section]
    key = selector(section)
    name = data.get(key, default)
    if not isinstance(name, str):
        raise ConfigError(f"{where}.{key}: expected a string, got {name!r}")
    cls = _component_class(section, name, where)
    fields = [f.name for f in dataclasses.fields(cls)]
    values = {cls.renamed.get(k, k) if cls.renamed.get(k) in fields else k: v
              for k, v in data.items()}
    unknown = [k for k in values if k not in fields]
    if unknown:
        owners = _owners(section, unknown[0], name)
        also = f" (it is one of: {', '.join(owners)})" if owners else ""
        raise ConfigError(f"{where}.{unknown[0]} is not a field of {kind} {name!r}{also}; "
                          f"its fields are {fields}")
    values[key] = name
    return from_dict(cls, values, where)


def objective_term_config(name: str, values: dict[str, Any] | None = None) -> ComponentConfig:
    """The config of objective term ``name`` (a latent loss or a regularizer) from its
    ``objective.terms.NAME`` mapping, validated against the term's ``config_class``.

    Raises:
        ConfigError: ``name`` is not a registered objective term, or a key is not one of
            its fields.

    Examples:
        >>> objective_term_config("cosine")
        ComponentConfig(name='cosine')
        >>> objective_term_config("cosine", {"eps": 1e-6})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        jepa_core.config.ConfigError: objective.terms.cosine.eps is not a field of objective 'cosine'; its fields are []
    """
    from .registry import UnknownComponentError, get_registry

    where = f"objective.terms.{name}"
    if not isinstance(values, (dict, type(None))):
        raise ConfigError(f"{where}: expected a section (mapping), got {values!r}")
    try:
        cls = get_registry("objective").config_class(name)
    except UnknownComponentError as e:
        raise ConfigError(f"{where}: {e.args[0]}") from None
    fields = [f.name for f in dataclasses.fields(cls) if f.name != "name"]
    unknown = [k for k in values or {} if k not in fields]
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]} is not a field of objective {name!r}; "
                          f"its fields are {fields}")
    return from_dict(cls, {**(values or {}), "name": name}, where)


def default_component(section: str) -> ComponentConfig:
    """The config of a component section's default component, with its defaults."""
    return component_config(section, {selector(section): COMPONENT_SECTIONS[section][1]})


#: Keys of the 0.1 release's flat ``mask`` section (every masker's fields in one).
_LEGACY_MASK_KEYS = frozenset({
    "num_targets", "target_scale", "target_aspect", "context_scale", "context_aspect",
    "min_keep", "allow_overlap", "context_ratio", "target_ratio", "temporal_frames",
    "temporal_scale", "temporal_span"})


#: Keys of the flat ``target`` section saved before target providers had their own configs.
_LEGACY_TARGET_KEYS = frozenset({"kind", "momentum", "frozen_run"})


def upgrade_legacy(layer: dict) -> dict:
    """A config layer in an older format (or with old spellings), rewritten to the current one.

    - ``data.ignore_columns`` moves to ``options.ignore_columns`` (dropped when empty): a
      modality's own option, not the core's;
    - a flat ``mask`` section holding every masker's fields (as 0.1 saved it) keeps only
      the chosen masker's;
    - ``model.predictor``, ``model.predictor_dim``, ``model.predictor_depth``,
      ``model.predictor_heads`` move to ``predictor.name``/``dim``/``depth``/``heads``,
      and ``model.pooling`` to ``pooling.name`` (:data:`MOVED_MODEL_KEYS`); a value given
      in the new section of the same layer wins;
    - a flat ``target`` section holding every provider's fields (``kind``, ``momentum``,
      ``frozen_run``, as saved before providers had their own configs) keeps only the
      chosen provider's.

    Anything else is returned as is: old spellings may come from a saved run's
    ``config.yaml``, a plugin's ``default_config()``, a config file or ``--set``.

    Examples:
        >>> upgrade_legacy({"data": {"batch_size": 8, "ignore_columns": ["id"]}})
        {'data': {'batch_size': 8}, 'options': {'ignore_columns': ['id']}}
        >>> upgrade_legacy({"model": {"dim": 32, "predictor_dim": 16, "pooling": "concat"}})
        {'model': {'dim': 32}, 'predictor': {'dim': 16}, 'pooling': {'name': 'concat'}}
    """
    out = dict(layer)
    data = out.get("data")
    if isinstance(data, dict) and "ignore_columns" in data:
        data = dict(data)
        columns = data.pop("ignore_columns")
        out["data"] = data
        if columns:
            out["options"] = {"ignore_columns": columns, **(out.get("options") or {})}
    mask = out.get("mask")
    if isinstance(mask, dict) and _LEGACY_MASK_KEYS <= set(mask):
        keep = _field_names("mask", mask.get("name", COMPONENT_SECTIONS["mask"][1]))
        if keep:
            out["mask"] = {k: v for k, v in mask.items() if k == "name" or k in keep}
    model = out.get("model")
    if isinstance(model, dict) and MOVED_MODEL_KEYS.keys() & model.keys():
        model = dict(model)
        moved: dict[str, dict] = {}
        for old in [k for k in model if k in MOVED_MODEL_KEYS]:
            section, key = MOVED_MODEL_KEYS[old]
            moved.setdefault(section, {})[key] = model.pop(old)
        out["model"] = model
        for section, values in moved.items():
            given = out.get(section)
            out[section] = {**values, **given} if isinstance(given, dict) else \
                values if given is None else given
    target = out.get("target")
    if isinstance(target, dict) and _LEGACY_TARGET_KEYS <= set(target):
        keep = _field_names("target", target.get("kind", COMPONENT_SECTIONS["target"][1]))
        if keep:
            out["target"] = {k: v for k, v in target.items() if k in keep}
    return out
