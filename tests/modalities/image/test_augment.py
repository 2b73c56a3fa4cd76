"""Random resized crop and flip: keyed by (seed, step, sample id), exact boxes, batched."""

from __future__ import annotations

import torch

from modalities.image.augment import crop_boxes, resized_crop

SCALE, RATIO = (0.3, 1.0), (0.75, 4 / 3)


def test_crop_boxes__depend_on_seed_step_and_id_only():
    ids = torch.tensor([0, 5, 9, 1000])
    a = crop_boxes(ids, 3, 7, SCALE, RATIO, True)
    assert torch.equal(a[[2, 0]], crop_boxes(ids[[2, 0]], 3, 7, SCALE, RATIO, True))  # batch order
    assert not torch.equal(a, crop_boxes(ids, 4, 7, SCALE, RATIO, True))  # another step
    assert not torch.equal(a, crop_boxes(ids, 3, 8, SCALE, RATIO, True))  # another seed


def test_crop_boxes__inside_the_image_with_area_and_ratio_in_range():
    boxes = crop_boxes(torch.arange(500), 0, 0, SCALE, RATIO, True)
    left, top, w, h, flip = boxes.unbind(1)
    assert (left >= 0).all() and (top >= 0).all() and (left + w <= 1 + 1e-9).all() and (top + h <= 1 + 1e-9).all()
    area, ratio = w * h, w / h
    assert (area >= SCALE[0] - 1e-9).all() and (area <= SCALE[1] + 1e-9).all()
    assert (ratio >= RATIO[0] - 1e-9).all() and (ratio <= RATIO[1] + 1e-9).all()
    assert 0.4 < flip.mean() < 0.6
    assert (crop_boxes(torch.arange(50), 0, 0, SCALE, RATIO, False)[:, 4] == 0).all()


def test_resized_crop__whole_box_is_identity_and_flip_mirrors():
    images = torch.rand(2, 3, 8, 8) * 255
    whole = torch.tensor([[0, 0, 1, 1, 0], [0, 0, 1, 1, 1]], dtype=torch.float64)
    out = resized_crop(images, whole)
    torch.testing.assert_close(out[0], images[0], atol=1e-4, rtol=0)
    torch.testing.assert_close(out[1], images[1].flip(-1), atol=1e-4, rtol=0)


def test_resized_crop__a_quarter_box_upsamples_that_quarter():
    images = torch.zeros(1, 1, 8, 8)
    images[..., 4:, :4] = 1.0  # the bottom-left quarter is white
    box = torch.tensor([[0.0, 0.5, 0.5, 0.5, 0.0]], dtype=torch.float64)
    out = resized_crop(images, box)
    assert out.shape == (1, 1, 8, 8)
    assert out[..., 1:, :-1].min() == 1.0  # the edge rows blend in half a pixel beyond the box
    assert out[..., 0, :].min() >= 0.5 and out[..., :, -1].min() >= 0.5
