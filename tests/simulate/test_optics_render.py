"""Thin-lens optics, the layered defocus renderer, focus schedules and in-focus times."""

import numpy as np
import pytest
from scipy import ndimage
from scipy.special import j1

from neurofocus.errors import NeurofocusError
from neurofocus.simulate.focal_sweep import SceneSweep
from neurofocus.simulate.optics import ThinLens, psf_kernel, psf_otf, radial_frequency
from neurofocus.simulate.render import SceneRenderer
from neurofocus.simulate.scene import Layer, Scene, plane_depth, random_scene, shape_mask
from neurofocus.simulate.sweep import SweepSpec, apply_magnification, focus_schedule

LENS = ThinLens(100.0, 1.2, 18.5)


def test_blur_circle_formula():
    # A = 83.33 mm; focused at 2 m, a point at 2.5 m: c = A·f·|d - s| / (d·(s - f)) = 83.33·100·500/(2500·1900)
    c_mm = 83.3333333 * 100 * 500 / (2500 * 1900)
    assert LENS.blur_diameter_px(2.5, 2.0) == pytest.approx(c_mm / 0.0185, rel=1e-6)
    assert LENS.blur_diameter_px(2.0, 2.0) == 0
    span = LENS.inverse_depth_span(20.0, 2.0)
    assert LENS.blur_diameter_px(1 / (0.5 - span), 2.0) == pytest.approx(20.0, rel=1e-6)
    with pytest.raises(NeurofocusError):
        LENS.blur_diameter_px(0.05, 2.0)


def test_disk_psf():
    rho = radial_frequency((64, 64))
    d = 12.3
    exact = np.where(rho > 0, 2 * j1(np.pi * d * rho) / np.maximum(np.pi * d * rho, 1e-12), 1.0)
    edge = np.exp(-2 * np.pi**2 * 0.35**2 * rho**2)
    assert np.allclose(psf_otf(rho, d), exact * edge, atol=1e-5)
    kernel = psf_kernel(d)
    assert kernel.sum() == pytest.approx(1.0, abs=1e-5)
    yy, xx = np.mgrid[: kernel.shape[0], : kernel.shape[1]] - kernel.shape[0] // 2
    inside = kernel[np.hypot(yy, xx) < d / 2 - 1.5]
    assert inside.std() / inside.mean() < 0.05  # flat top: a pillbox
    assert kernel[np.hypot(yy, xx) > d / 2 + 1.5].max() < 0.02 * kernel.max()
    assert psf_kernel(0.0).max() == pytest.approx(1.0)  # no blur
    gauss = psf_kernel(8.0, "gaussian", size=41)
    var = (gauss * (np.mgrid[:41, :41][1] - 20) ** 2).sum()
    assert np.sqrt(var) == pytest.approx(2.0, rel=0.02)  # σ = D/4


def two_plane_scene(near=1.9, far=2.1, size=(80, 60), pad=20):
    rng = np.random.default_rng(0)
    w, h = size
    shape = (h + 2 * pad, w + 2 * pad)
    texture = lambda: rng.uniform(0.05, 0.95, shape + (3,)).astype(np.float32)
    back = Layer(texture(), np.ones(shape, np.float32), np.full(shape, far, np.float32), "back")
    alpha = shape_mask("rectangle", shape, (pad + 20, pad + 30), (24, 30), 0.0)
    front = Layer(texture(), alpha, np.full(shape, near, np.float32), "front")
    return Scene(w, h, pad, [back, front], near_m=near, far_m=far)


def sharpness(image):
    gray = image.mean(axis=2)
    return float((ndimage.laplace(gray) ** 2).mean())


def test_renderer_focuses_each_plane_and_keeps_occlusion():
    scene = two_plane_scene()
    r = SceneRenderer(scene, LENS)
    pinhole = r.pinhole()
    near_focus, far_focus = r.render(1.9), r.render(2.1)
    front_inside = (slice(20, 40), slice(12, 28))  # well inside the rectangle (image coordinates)
    back_region = (slice(5, 55), slice(50, 78))
    # focused on a plane, its interior equals the pinhole image; the other plane is blurred
    assert np.abs(near_focus[front_inside] - pinhole[front_inside]).max() < 1e-3
    assert np.abs(far_focus[back_region] - pinhole[back_region]).max() < 1e-3
    assert sharpness(far_focus[front_inside]) < 0.2 * sharpness(pinhole[front_inside])
    assert sharpness(near_focus[back_region]) < 0.2 * sharpness(pinhole[back_region])
    # blurring preserves the mean light (energy) away from the canvas border
    assert near_focus.mean() == pytest.approx(pinhole.mean(), rel=0.02)
    depth = r.depth_map()
    assert depth[front_inside].max() == pytest.approx(1.9) and depth[back_region].min() == pytest.approx(2.1)


def test_slanted_surfaces_are_sliced_and_sharp_where_in_focus():
    rng = np.random.default_rng(3)
    w, h, pad = 96, 72, 16
    shape = (h + 2 * pad, w + 2 * pad)
    depth = plane_depth(shape, 0.5, (0.06 / shape[1], 0.0))  # 1/d from 0.47 to 0.53 1/m across the canvas
    plane = Layer(rng.uniform(0.05, 0.95, shape + (3,)).astype(np.float32), np.ones(shape, np.float32), depth, "wall")
    scene = Scene(w, h, pad, [plane], near_m=float(depth.min()), far_m=float(depth.max()))
    r = SceneRenderer(scene, LENS)
    assert r.num_slices > 5
    image, pinhole = r.render(2.0), r.pinhole()
    blur = LENS.blur_diameter_px(scene.crop(depth), 2.0)
    assert blur.max() > 8
    columns_err = np.abs(image - pinhole).mean(axis=(0, 2))
    columns_blur = blur.mean(axis=0)
    # the error grows with the blur: small where the plane is in focus, large where it is not
    assert columns_err[columns_blur < 0.5].mean() < 0.25 * columns_err[columns_blur > 6].mean()
    assert stats_spearman(columns_blur, columns_err) > 0.8


def stats_spearman(a, b):
    from scipy.stats import spearmanr

    return spearmanr(a, b).statistic


def test_focus_schedule_and_infocus_time():
    rng = np.random.default_rng(1)
    spec = SweepSpec(num_frames=100, frame_rate_hz=100.0, margin=0.0, image_frame=10)
    s = focus_schedule(spec, 1.8, 2.2, rng)
    assert s.times_us[1] - s.times_us[0] == 10_000 and s.image_time_us == 100_000
    inv = 1 / s.focus_m
    assert inv[0] == pytest.approx(1 / 1.8) and inv[-1] == pytest.approx(1 / 2.2)  # near to far
    assert np.allclose(np.diff(inv), np.diff(inv)[0])  # constant speed in inverse distance
    assert np.allclose(s.infocus_time_us(s.focus_m), s.times_us)  # a depth is in focus at its own frame
    hand = focus_schedule(SweepSpec(num_frames=100, speed="hand"), 1.8, 2.2, np.random.default_rng(2))
    steps = -np.diff(1 / hand.focus_m)
    assert np.all(steps > 0) and steps.max() / steps.min() > 1.5  # monotonic, speed varies
    again = focus_schedule(SweepSpec(num_frames=100, speed="hand"), 1.8, 2.2, np.random.default_rng(2))
    assert np.array_equal(hand.focus_m, again.focus_m)
    back = focus_schedule(SweepSpec(num_frames=10, direction="far_to_near"), 1.8, 2.2, rng)
    assert back.focus_m[0] > back.focus_m[-1]
    breathing = focus_schedule(SweepSpec(num_frames=50, breathing=0.03, image_frame=20), 1.8, 2.2, rng)
    assert breathing.magnification[20] == 1.0 and breathing.magnification[-1] > breathing.magnification[0]


def test_each_pixel_is_sharpest_at_its_infocus_time():
    """Per object, the frame of peak sharpness in the rendered sweep matches the in-focus time of its depth."""
    rng = np.random.default_rng(4)
    scene = random_scene(rng, (160, 120), LENS, max_blur_px=20, num_objects=(4, 4), slanted_fraction=0.0)
    schedule = focus_schedule(SweepSpec(num_frames=60, frame_rate_hz=60.0, speed="hand"), scene.near_m,
                              scene.far_m, rng)
    sweep = SceneSweep(scene, LENS, schedule)
    frames = [sweep.frame(k) for k in range(60)]
    infocus = sweep.infocus_time_us()
    depth = sweep.depth_m()
    checked = 0
    for layer in scene.layers[1:]:
        own = scene.crop(ndimage.binary_erosion(layer.alpha > 0.99, iterations=6)) & (depth == layer.depth_m[0, 0])
        inside = ndimage.binary_erosion(own, iterations=2)  # away from the sharp edges of occluders too
        if inside.sum() < 100:  # too small (or hidden): no focus signature
            continue
        if float((ndimage.laplace(sweep.all_in_focus().mean(axis=2)) ** 2)[inside].mean()) < 1e-4:  # textureless
            continue
        energy = [float((ndimage.laplace(f.mean(axis=2)) ** 2)[inside].mean()) for f in frames]
        peak_time = schedule.times_us[int(np.argmax(energy))]
        frame_us = 1e6 / 60
        assert abs(peak_time - np.median(infocus[inside])) <= 2 * frame_us
        checked += 1
    assert checked >= 2


def test_magnification_about_the_centre():
    image = np.zeros((41, 41, 1), np.float32)
    image[20, 30] = 1
    zoomed = apply_magnification(image, 1.5)
    y, x = np.unravel_index(np.argmax(zoomed[..., 0]), (41, 41))
    assert (y, x) == (20, 35)
    assert apply_magnification(image, 1.0) is image


@pytest.mark.parametrize("kind, least_fill", [("rectangle", 0.99), ("ellipse", 0.75), ("polygon", 0.3),
                                              ("star", 0.3)])
def test_shapes_fill_a_fair_part_of_their_box(kind, least_fill):
    """Random polygons and stars are irregular but never slivers: they cover a fair part of their bounding box."""
    for seed in range(20):
        mask = shape_mask(kind, (120, 120), (60, 60), (80, 60), 0.0, np.random.default_rng(seed))
        fill = mask.sum() / (80 * 60)
        assert least_fill <= fill <= 1.01, (kind, seed, fill)
