"""Procedural street scenes for the LiDAR simulator: ground, buildings, cars, poles, people, trees.

A scene is a few arrays of primitives (oriented boxes, vertical cylinders, spheres) with a
SemanticKITTI class per primitive, plus a ground plane whose class depends on the lateral
distance to the road (road, sidewalk, terrain). Class ids follow SemanticKITTI.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: SemanticKITTI ids of the classes the simulator produces.
CLASSES = {"car": 10, "person": 30, "road": 40, "sidewalk": 48, "building": 50,
           "vegetation": 70, "trunk": 71, "terrain": 72, "pole": 80}

#: Mean reflectance per class (in [0, 1]); the simulator adds noise.
REFLECTANCE = {10: 0.55, 30: 0.3, 40: 0.2, 48: 0.3, 50: 0.4, 70: 0.45, 71: 0.25, 72: 0.35, 80: 0.5}


@dataclass
class Scene:
    """Primitives of one scene, in the sensor frame (metres; the sensor sits at the origin).

    Shapes:
        boxes ``[K, 7]`` (cx, cy, z_bottom, length, width, height, yaw), cylinders ``[K, 5]``
        (cx, cy, radius, z_bottom, z_top), spheres ``[K, 4]`` (cx, cy, cz, radius); each
        with ``*_label [K]`` (SemanticKITTI class) and ``*_instance [K]``.
    """

    ground_z: float
    road_centre: float
    road_half: float
    sidewalk: float
    boxes: np.ndarray
    box_label: np.ndarray
    cylinders: np.ndarray
    cylinder_label: np.ndarray
    spheres: np.ndarray
    sphere_label: np.ndarray

    def ground_label(self, y: np.ndarray) -> np.ndarray:
        """Ground class by lateral offset: road, then sidewalk, then terrain."""
        ay = np.abs(y - self.road_centre)
        return np.where(ay < self.road_half, CLASSES["road"],
                        np.where(ay < self.road_half + self.sidewalk, CLASSES["sidewalk"],
                                 CLASSES["terrain"]))


def street_scene(rng: np.random.Generator, sensor_height: float = 1.73) -> Scene:
    """A random straight street along +x with the sensor on the road.

    Buildings line both sides behind the sidewalk (with gaps), cars drive in the lanes and
    park at the kerb, poles and trees stand on the sidewalk, pedestrians walk on it.
    """
    g = -sensor_height
    road = rng.uniform(3.5, 7.0)
    walk = rng.uniform(2.0, 4.0)
    offset = rng.uniform(-1.5, 1.5)  # the sensor is not always on the centre line
    boxes, blabel, cyl, clabel, sph, slabel = [], [], [], [], [], []

    for side in (-1.0, 1.0):
        x = rng.uniform(-70, -50)
        while x < 80:
            length = rng.uniform(8, 30)
            if rng.random() < 0.75:
                depth = rng.uniform(8, 20)
                setback = rng.uniform(0.5, 6.0)
                edge = road + walk + setback
                boxes.append([x + length / 2, side * (edge + depth / 2) - offset, g, length, depth,
                              rng.uniform(4, 20), rng.normal(0, 0.03)])
                blabel.append(CLASSES["building"])
            x += length + rng.uniform(0, 10)
        # kerb-side things: parked cars, poles, trees, pedestrians
        for _ in range(rng.integers(2, 7)):
            boxes.append([rng.uniform(-40, 70), side * (road - 1.1) - offset, g + 0.15,
                          rng.uniform(3.8, 4.8), rng.uniform(1.7, 1.9), rng.uniform(1.4, 1.7),
                          rng.normal(0, 0.05)])
            blabel.append(CLASSES["car"])
        for px in rng.uniform(-40, 70, size=rng.integers(2, 7)):
            cyl.append([px, side * (road + 0.4) - offset, rng.uniform(0.1, 0.2), g, g + rng.uniform(5, 8)])
            clabel.append(CLASSES["pole"])
        for tx in rng.uniform(-40, 70, size=rng.integers(0, 6)):
            ty = side * (road + walk * rng.uniform(0.5, 0.9)) - offset
            top = g + rng.uniform(2.5, 4.0)
            cyl.append([tx, ty, rng.uniform(0.15, 0.3), g, top])
            clabel.append(CLASSES["trunk"])
            r = rng.uniform(1.5, 3.0)
            sph.append([tx, ty, top + r * 0.7, r])
            slabel.append(CLASSES["vegetation"])
        for px in rng.uniform(-30, 60, size=rng.integers(0, 6)):
            cyl.append([px, side * (road + walk * rng.uniform(0.2, 0.8)) - offset, 0.3, g,
                        g + rng.uniform(1.5, 1.9)])
            clabel.append(CLASSES["person"])
    for _ in range(rng.integers(1, 6)):  # moving traffic in the lanes
        lane = rng.choice([-1.0, 1.0]) * road / 2
        x = rng.uniform(5, 70) * rng.choice([-1.0, 1.0], p=[0.2, 0.8])
        boxes.append([x, lane - offset, g + 0.15, rng.uniform(3.8, 4.8), rng.uniform(1.7, 1.9),
                      rng.uniform(1.4, 1.7), rng.normal(0, 0.05)])
        blabel.append(CLASSES["car"])

    def arr(rows: list, width: int) -> np.ndarray:
        return np.asarray(rows, dtype=np.float64).reshape(-1, width)

    return Scene(g, -offset, road, walk, arr(boxes, 7), np.asarray(blabel, dtype=np.int64),
                 arr(cyl, 5), np.asarray(clabel, dtype=np.int64), arr(sph, 4),
                 np.asarray(slabel, dtype=np.int64))
