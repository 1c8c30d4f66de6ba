"""Generated worlds are reproducible and sane; rendering is a pure function of world+window."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.ops import unary_union

from detection.classes import ViolationClass
from detection.synthetic.layout import WorldConfig, generate_world
from detection.synthetic.render import RenderOptions, render
from detection.synthetic.world import CameraWindow, ObjectKind, SceneObject, World

SEEDS = range(12)
_CLEAN = RenderOptions(noise_sigma=0.0)

# realistic plan sizes (length range in metres) per violation kind
_SIZE_RANGES_M = {
    ObjectKind.STEEL_SHED: (4.0, 14.0),
    ObjectKind.MUCK_TRUCK: (7.5, 10.0),
    ObjectKind.EXCAVATOR: (3.8, 4.8),
    ObjectKind.CRANE: (10.0, 13.0),
    ObjectKind.WASTE_PILE: (2.0, 12.0),
}


def test_same_seed_same_world() -> None:
    a, b = generate_world(7), generate_world(7)
    assert len(a.objects) == len(b.objects)
    for oa, ob in zip(a.objects, b.objects, strict=True):
        assert oa.kind is ob.kind
        assert oa.footprint.equals_exact(ob.footprint, 1e-9)
    other = generate_world(8)
    assert [o.kind for o in other.objects] != [o.kind for o in a.objects] or any(
        not oa.footprint.equals(ob.footprint)
        for oa, ob in zip(a.objects, other.objects, strict=False)
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_ground_level_things_do_not_overlap(seed: int) -> None:
    world = generate_world(seed, WorldConfig(size_m=40.0, violations=9.0, confusers=7.0))
    things = [o for o in world.objects if not o.is_ground and o.base_m == 0]
    for i, a in enumerate(things):
        for b in things[i + 1 :]:
            assert a.footprint.intersection(b.footprint).area < 1e-6, (a.kind, b.kind)


@pytest.mark.parametrize("seed", SEEDS)
def test_rooftop_objects_stand_inside_a_roof(seed: int) -> None:
    world = generate_world(seed)
    roofs = unary_union([o.footprint for o in world.objects if o.kind.value.startswith("roof")])
    for obj in world.objects:
        if obj.base_m > 0:
            assert roofs.buffer(1e-6).contains(obj.footprint)


def test_violation_sizes_are_realistic() -> None:
    seen: set[ObjectKind] = set()
    for seed in SEEDS:
        for obj in generate_world(seed).labelled():
            if obj.kind in _SIZE_RANGES_M:
                lo, hi = _SIZE_RANGES_M[obj.kind]
                assert lo <= obj.length_m <= hi, obj.kind
                seen.add(obj.kind)
    assert len(seen) >= 4  # the seeds exercise most kinds


def test_render_is_deterministic_and_typed() -> None:
    world = generate_world(3)
    window = CameraWindow.centered(30.0, 30.0, 96, 0.05)
    a = render(world, window, RenderOptions(seed=1))
    b = render(world, window, RenderOptions(seed=1))
    assert a.image.shape == (96, 96, 3)
    assert a.image.dtype == np.uint8
    np.testing.assert_array_equal(a.image, b.image)
    assert a.labels == b.labels


def test_overlapping_windows_agree_away_from_edges() -> None:
    """The simulator may render any window: the same ground point gets the same colour."""
    world = generate_world(5)
    big = CameraWindow(10.0, 10.0, 200, 200, 0.05)
    # a window shifted by a whole number of pixels (40 px east, 60 px south of the top)
    small = CameraWindow(10.0 + 40 * 0.05, 10.0 + 40 * 0.05, 120, 100, 0.05)
    img_big = render(world, big, _CLEAN).image.astype(int)
    img_small = render(world, small, _CLEAN).image.astype(int)
    crop = img_big[60 : 60 + 100, 40 : 40 + 120]
    margin = 16  # blurred edges (soft ground patches, shadows) depend on the window border
    diff = np.abs(crop - img_small)[margin:-margin, margin:-margin]
    assert float(diff.mean()) < 1.0
    assert float(np.percentile(diff, 99)) <= 8


def _fully_inside(world: World, window: CameraWindow) -> list[SceneObject]:
    frame = window.ground
    return [o for o in world.labelled() if frame.contains(o.footprint)]


@pytest.mark.parametrize("seed", range(6))
def test_labels_match_the_ground_truth_polygons(seed: int) -> None:
    gsd_m = 0.25
    world = generate_world(seed)
    window = CameraWindow(0.0, 0.0, 240, 240, gsd_m)  # the whole 60 m world
    scene = render(world, window, _CLEAN)
    inside = _fully_inside(world, window)
    assert len(scene.labels) >= len(inside)
    for obj in inside:
        minx, miny, maxx, maxy = obj.footprint.bounds
        expected = (minx / gsd_m, (60 - maxy) / gsd_m, maxx / gsd_m, (60 - miny) / gsd_m)
        assert any(
            b.kind is obj.kind
            and np.allclose((b.x0_px, b.y0_px, b.x1_px, b.y1_px), expected, atol=1e-6)
            for b in scene.labels
        )
    for b in scene.labels:
        assert 0 <= b.x0_px < b.x1_px <= 240
        assert 0 <= b.y0_px < b.y1_px <= 240
        assert isinstance(b.label, ViolationClass)
    assert all(b.label is None for b in scene.confusers)


def test_yolo_lines_are_normalised() -> None:
    world = generate_world(2)
    scene = render(world, CameraWindow(0.0, 0.0, 300, 300, 0.2), _CLEAN)
    assert scene.labels
    for b in scene.labels:
        cls, *vals = scene_line = b.yolo_line(300, 300).split()
        assert len(scene_line) == 5
        assert 0 <= int(cls) < len(ViolationClass)
        assert all(0.0 <= float(v) <= 1.0 for v in vals)


def test_night_is_dark_but_active_sites_are_lit() -> None:
    for seed in range(40):
        world = generate_world(seed)
        lit = [o for o in world.objects if o.lit]
        if lit:
            break
    else:
        pytest.fail("no world with an active night site in 40 seeds")
    obj = lit[0]
    window = CameraWindow.centered(*obj.center_xy_m, 200, 0.1)
    day = render(world, window, _CLEAN).image.astype(float)
    night = render(world, window, RenderOptions(night=True, noise_sigma=0.0)).image
    assert night.mean() < 0.6 * day.mean()
    dark_world = World(
        world.extent,
        tuple(SceneObject(**{**o.__dict__, "lit": False}) for o in world.objects),
        world.sun,
        world.ground_kind,
        world.seed,
    )
    unlit = render(dark_world, window, RenderOptions(night=True, noise_sigma=0.0)).image
    assert night.astype(float).mean() > unlit.astype(float).mean() + 2.0
