"""The ``options`` config section of the LiDAR plugin: readers, BEV grid, tokens."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LidarOptions:
    """How scans are read and laid out on the bird's-eye-view (BEV) grid.

    The defaults are sized to pretrain in minutes on a 2-core CPU: a 51.2 m x 51.2 m
    area in front of the sensor at 0.4 m pillars (a 128 x 128 BEV map) cut into 4 x 4
    cell patches, i.e. a 32 x 32 grid of 1.6 m tokens. KITTI practice (PointPillars,
    AD-L-JEPA) is ``point_range = [0, -39.68, -3, 69.12, 39.68, 1]`` with 0.16 m pillars,
    a 432 x 496 map; set those for GPU-sized runs.

    Args:
        point_range: ``[x_min, y_min, z_min, x_max, y_max, z_max]`` in metres; points
            outside are cropped.
        pillar_size: ``[dx, dy]`` of one BEV cell (pillar) in metres.
        patch: BEV cells per token side; the map size must be divisible by it. 4 (1.6 m
            tokens: a car spans a few), with the encoder's local attention window; see
            ``LidarModality.default_config``.
        bin_columns: float32 columns per point in ``.bin`` files (KITTI 4, nuScenes 5);
            the first four are read as x, y, z, intensity.
        intensity_scale: divide intensities by this; ``null`` picks per file (1 if the
            file's values are already in [0, 1], 255 below 256 as in nuScenes, else 65535
            as in LAS).
        pillar_channels: width of the per-point PointNet in the pillar feature net.
        token_scale: the LayerNorm'd BEV tokens are multiplied by this before the encoder
            adds its sin-cos positions (rms ~0.7). 2 keeps the patch content ahead of the
            position; smaller scales left the pretrained features dominated by position
            (``benchmarks/results/lidar_probe.md``).
        extensions: file suffixes read as scans, in the order they are tried.
        ignore_labels: label values that count as unlabeled when probing (SemanticKITTI
            class 0 is "unlabeled").
        augment_flip: in training, mirror each scan left-right (``y -> -y``) with
            probability 1/2 (:mod:`modalities.lidar.augment`); embedding and probing never
            augment.
        augment_rotate: in training, turn each scan about the sensor's z axis by an angle
            uniform in ``[-augment_rotate, augment_rotate]`` degrees (0: no rotation).
    """

    point_range: list[float] = field(default_factory=lambda: [0.0, -25.6, -3.0, 51.2, 25.6, 1.0])
    pillar_size: list[float] = field(default_factory=lambda: [0.4, 0.4])
    patch: int = 4
    bin_columns: int = 4
    intensity_scale: float | None = None
    pillar_channels: int = 32
    token_scale: float = 2.0
    extensions: list[str] = field(default_factory=lambda: [".bin", ".npy", ".pcd", ".las", ".laz"])
    ignore_labels: list[int] = field(default_factory=lambda: [0])
    augment_flip: bool = False
    augment_rotate: float = 0.0

    def grid_size(self) -> tuple[int, int]:
        """BEV map size ``(H, W)``: rows along y, columns along x."""
        x0, y0, _, x1, y1, _ = self.point_range
        return round((y1 - y0) / self.pillar_size[1]), round((x1 - x0) / self.pillar_size[0])

    def token_grid(self) -> tuple[int, int]:
        """Token grid ``(H', W')`` = BEV map size over ``patch``."""
        h, w = self.grid_size()
        return h // self.patch, w // self.patch

    def validate(self) -> None:
        """Raise ``ValueError`` for a range, pillar or patch size that cannot work."""
        if len(self.point_range) != 6:
            raise ValueError(f"options.point_range needs 6 numbers, got {self.point_range}")
        x0, y0, z0, x1, y1, z1 = self.point_range
        if not (x1 > x0 and y1 > y0 and z1 > z0):
            raise ValueError(f"options.point_range must have min < max per axis, got {self.point_range}")
        if len(self.pillar_size) != 2 or min(self.pillar_size) <= 0:
            raise ValueError(f"options.pillar_size needs 2 positive numbers, got {self.pillar_size}")
        h, w = self.grid_size()
        if self.patch < 1 or h % self.patch or w % self.patch:
            raise ValueError(f"options.patch={self.patch} must divide the BEV map size {h}x{w}")
        if not self.token_scale > 0:
            raise ValueError(f"options.token_scale must be > 0, got {self.token_scale}")
        if self.bin_columns < 3:
            raise ValueError(f"options.bin_columns must be >= 3, got {self.bin_columns}")
        if not 0 <= self.augment_rotate <= 180:
            raise ValueError(f"options.augment_rotate must be an angle in [0, 180] degrees, got {self.augment_rotate}")
