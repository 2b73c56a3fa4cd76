"""Built-in goal-conditioned navigation envs: a point agent in rooms joined by doors.

``two-room``: the unit square split by a vertical wall at ``x = 0.5`` with one door;
``three-room``: two walls (``x = 1/3`` and ``x = 2/3``) whose doors sit at opposite
ends, so going from the left room to the right one takes a detour. Both follow the
gymnasium API and the goal convention of :mod:`jepa_core.planning.envs`:

- actions: ``Box(-1, 1, (2,))``, clipped, scaled by ``max_step`` (a move of at most
  ``max_step`` along each axis); a move into a wall stops at the wall;
- observations: ``uint8 [size, size, 3]`` images (``obs_type="pixels"``, the default:
  walls grey, the agent a red blob drawn with sub-pixel precision) or the agent's
  ``float32 [2]`` position (``obs_type="state"``);
- ``reset`` puts ``info["goal_obs"]`` (the observation of the agent standing at the goal)
  and ``info["goal_state"]``; every step's ``info["is_success"]`` is ``True`` once the
  agent is within ``success_radius`` of the goal, which also ends the episode
  (``terminated``); ``info["state"]`` is always the position (for plots and probes);
- ``goal_mode="different_rooms"`` (default) draws start and goal in different rooms,
  ``"any"`` anywhere.

Examples:
    >>> env = TwoRoomEnv(size=16)
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, obs.dtype, info["goal_obs"].shape
    ((16, 16, 3), dtype('uint8'), (16, 16, 3))
    >>> env.room_of(info["state"]) != env.room_of(info["goal_state"])
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from gymnasium import spaces


@dataclass(frozen=True)
class Wall:
    """A vertical wall at ``x`` of half-thickness ``half``, open for ``door_lo < y < door_hi``."""

    x: float
    door_lo: float
    door_hi: float
    half: float = 0.02


#: The maps, as data: name -> walls (left to right).
LAYOUTS: dict[str, tuple[Wall, ...]] = {
    "two-room": (Wall(0.5, 0.4, 0.6),),
    "three-room": (Wall(1 / 3, 0.7, 0.9), Wall(2 / 3, 0.1, 0.3)),
}


class RoomsEnv(gym.Env):
    """A point agent in rooms separated by walls with doors; the goal is a position.

    Args:
        layout: a key of :data:`LAYOUTS`.
        size: image side in pixels (``obs_type="pixels"``).
        obs_type: ``pixels`` or ``state``.
        max_step: the largest move per step along each axis (the map is the unit square).
        max_steps: steps before ``truncated``.
        success_radius: distance to the goal that counts as reached.
        goal_mode: ``different_rooms`` or ``any``.
        margin: the agent keeps this far from walls and borders (its radius).
    """

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, layout: str = "two-room", size: int = 32, obs_type: str = "pixels",
                 max_step: float = 0.1, max_steps: int = 100, success_radius: float = 0.1,
                 goal_mode: str = "different_rooms", margin: float = 0.03,
                 render_mode: str | None = None) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout!r}; layouts: {sorted(LAYOUTS)}")
        if obs_type not in ("pixels", "state"):
            raise ValueError(f"obs_type must be 'pixels' or 'state', got {obs_type!r}")
        if goal_mode not in ("different_rooms", "any"):
            raise ValueError(f"goal_mode must be 'different_rooms' or 'any', got {goal_mode!r}")
        self.layout = layout
        self.walls = LAYOUTS[layout]
        self.size = int(size)
        self.obs_type = obs_type
        self.max_step = float(max_step)
        self.max_steps = int(max_steps)
        self.success_radius = float(success_radius)
        self.goal_mode = goal_mode
        self.margin = float(margin)
        self.render_mode = render_mode
        self.action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        if obs_type == "pixels":
            self.observation_space = spaces.Box(0, 255, (self.size, self.size, 3), np.uint8)
        else:
            self.observation_space = spaces.Box(0.0, 1.0, (2,), np.float32)
        self._background = self._draw_background()
        self.pos = np.zeros(2)
        self.goal = np.zeros(2)
        self._t = 0

    # -- geometry ----------------------------------------------------------------------

    def room_of(self, pos: np.ndarray) -> int:
        """The room index of a position (0 = leftmost)."""
        return int(sum(pos[0] > w.x for w in self.walls))

    def _free(self, pos: np.ndarray) -> bool:
        """Whether the agent (radius ``margin``) fits at ``pos``."""
        m = self.margin
        if not (m <= pos[0] <= 1 - m and m <= pos[1] <= 1 - m):
            return False
        for w in self.walls:
            if abs(pos[0] - w.x) < w.half + m and not (w.door_lo + m < pos[1] < w.door_hi - m):
                return False
        return True

    def _move(self, pos: np.ndarray, delta: np.ndarray, substeps: int = 8) -> np.ndarray:
        """Walk ``delta`` in substeps; each axis stops where it would enter a wall."""
        for _ in range(substeps):
            for axis in (0, 1):
                trial = pos.copy()
                trial[axis] += delta[axis] / substeps
                if self._free(trial):
                    pos = trial
        return pos

    def _sample_free(self, rng: np.random.Generator, room: int | None = None) -> np.ndarray:
        while True:
            pos = rng.uniform(0.0, 1.0, 2)
            if self._free(pos) and (room is None or self.room_of(pos) == room):
                return pos

    # -- rendering ---------------------------------------------------------------------

    def _draw_background(self) -> np.ndarray:
        s = self.size
        centres = (np.arange(s) + 0.5) / s
        x, y = np.meshgrid(centres, centres, indexing="xy")  # image row = y (0 at the top)
        img = np.full((s, s, 3), 20, np.uint8)
        for w in self.walls:
            solid = (np.abs(x - w.x) < max(w.half, 0.5 / s)) & ~((y > w.door_lo) & (y < w.door_hi))
            img[solid] = 128
        return img

    def render_state(self, pos: np.ndarray) -> np.ndarray:
        """The image of the agent at ``pos``: a red Gaussian blob of about one pixel sigma."""
        s = self.size
        centres = (np.arange(s) + 0.5) / s
        sigma = max(self.margin, 1.0 / s)
        blob = np.exp(-((centres[None, :] - pos[0]) ** 2 + (centres[:, None] - pos[1]) ** 2)
                      / (2 * sigma ** 2))
        img = self._background.astype(np.float32)
        img[..., 0] = img[..., 0] * (1 - blob) + 255 * blob
        img[..., 1:] *= (1 - blob)[..., None]
        return np.clip(np.rint(img), 0, 255).astype(np.uint8)

    def _observe(self, pos: np.ndarray) -> np.ndarray:
        if self.obs_type == "pixels":
            return self.render_state(pos)
        return pos.astype(np.float32)

    def render(self) -> np.ndarray:
        return self.render_state(self.pos)

    # -- gymnasium API -----------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        rng = self.np_random
        self.pos = self._sample_free(rng)
        if self.goal_mode == "different_rooms":
            rooms = [r for r in range(len(self.walls) + 1) if r != self.room_of(self.pos)]
            self.goal = self._sample_free(rng, int(rng.choice(rooms)))
        else:
            self.goal = self._sample_free(rng)
        self._t = 0
        info = {"goal_obs": self._observe(self.goal), "goal_state": self.goal.astype(np.float32),
                "state": self.pos.astype(np.float32), "is_success": self._success()}
        return self._observe(self.pos), info

    def _success(self) -> bool:
        return bool(np.linalg.norm(self.pos - self.goal) < self.success_radius)

    def step(self, action):
        a = np.clip(np.asarray(action, dtype=np.float64).reshape(2), -1.0, 1.0)
        self.pos = self._move(self.pos, a * self.max_step)
        self._t += 1
        success = self._success()
        reward = 1.0 if success else 0.0
        info = {"state": self.pos.astype(np.float32), "is_success": success,
                "goal_state": self.goal.astype(np.float32)}
        return self._observe(self.pos), reward, success, self._t >= self.max_steps, info


class TwoRoomEnv(RoomsEnv):
    """``two-room``: two rooms, one door in the middle of the wall (see :class:`RoomsEnv`)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(layout="two-room", **kwargs)


class ThreeRoomEnv(RoomsEnv):
    """``three-room``: three rooms, doors at opposite ends of the two walls."""

    def __init__(self, **kwargs) -> None:
        super().__init__(layout="three-room", **kwargs)


def register_gymnasium() -> None:
    """Register ``two-room`` and ``three-room`` with gymnasium (``gymnasium.make("two-room")``)."""
    for name, cls in (("two-room", TwoRoomEnv), ("three-room", ThreeRoomEnv)):
        if name not in gym.registry:
            gym.register(id=name, entry_point=f"{__name__}:{cls.__name__}")


register_gymnasium()
