"""Image readers: formats, colour modes, lazy decoding and every kind of bad file."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from jepa_core.modality import DataError
from modalities.image.readers import Decoder, ImageItem, list_items, to_rgb

from .images import blob, image_folder, png16


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".bmp", ".tiff"])
def test_list_items__reads_every_pillow_format(tmp_path, suffix):
    root = image_folder(tmp_path / "d", per_class=2, suffix=suffix)
    items = list_items(root, min_side=4)
    assert [it.path.endswith(suffix) for it in items] == [True] * 4
    rgb = Decoder(8)(items[0])
    assert rgb.shape == (8, 8, 3) and rgb.dtype == np.uint8


def test_list_items__arrays_one_item_per_image(tmp_path):
    arr = np.stack([blob(np.random.default_rng(i), 12) for i in range(3)])
    np.save(tmp_path / "a.npy", arr)
    np.savez(tmp_path / "b.npz", images=arr[:2, ..., 0])  # [N, H, W] grayscale
    items = list_items(tmp_path, min_side=4)
    assert [it.name for it in items] == [f"{tmp_path}/a.npy[{i}]" for i in range(3)] + \
        [f"{tmp_path}/b.npz[{i}]" for i in range(2)]
    dec = Decoder(12)
    np.testing.assert_array_equal(dec(items[1]), arr[1])
    np.testing.assert_array_equal(dec(items[4]), np.repeat(arr[1, ..., :1], 3, axis=2))


def test_list_items__array_of_floats_is_refused(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((2, 8, 8, 3), dtype=np.float32))
    with pytest.raises(DataError, match=r"a\.npy: image arrays must be uint8"):
        list_items(tmp_path, min_side=4)


def test_to_rgb__converts_gray_palette_alpha_16bit_cmyk():
    gray = Image.fromarray(np.array([[0, 255]], dtype=np.uint8), mode="L")
    assert to_rgb(gray).tolist() == [[[0, 0, 0], [255, 255, 255]]]
    pal = gray.convert("P")
    assert to_rgb(pal).tolist() == [[[0, 0, 0], [255, 255, 255]]]
    rgba = Image.new("RGBA", (1, 1), (10, 20, 30, 0))  # fully transparent: white
    assert to_rgb(rgba).tolist() == [[[255, 255, 255]]]
    deep = Image.fromarray(np.array([[0, 65535, 32896]], dtype=np.uint16))
    assert deep.mode.startswith("I")
    assert to_rgb(deep)[0, :, 0].tolist() == [0, 255, 128]
    cmyk = Image.new("CMYK", (1, 1), (0, 255, 255, 0))  # pure red in CMYK
    assert to_rgb(cmyk).tolist() == [[[255, 0, 0]]]


def test_decoder__16bit_png_and_cmyk_jpeg_files(tmp_path):
    Image.fromarray(np.full((8, 8), 65535, dtype=np.uint16)).save(tmp_path / "deep.png")
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")
    items = {it.path.rsplit("/", 1)[1]: it for it in list_items(tmp_path, min_side=4)}
    assert Decoder(8)(items["deep.png"]).min() == 255
    red = Decoder(8)(items["cmyk.jpg"]).reshape(-1, 3).mean(0)
    assert red[0] > 200 and red[1] < 60 and red[2] < 60


def test_decoder__16bit_rgb_and_rgba_png_files(tmp_path):
    rgb = np.zeros((8, 8, 3), dtype=np.uint16)
    rgb[..., 0], rgb[..., 1] = 65535, 32896
    rgba = np.zeros((8, 8, 4), dtype=np.uint16)
    rgba[..., 2] = rgba[..., 3] = 65535  # opaque blue
    png16(tmp_path / "rgb16.png", rgb)
    png16(tmp_path / "rgba16.png", rgba)
    items = {it.path.rsplit("/", 1)[1]: it for it in list_items(tmp_path, min_side=4, verify=True)}
    assert Decoder(8)(items["rgb16.png"])[0, 0].tolist() == [255, 128, 0]
    assert Decoder(8)(items["rgba16.png"])[0, 0].tolist() == [0, 0, 255]


def test_decoder__resizes_shorter_side_and_centre_crops(tmp_path):
    img = np.zeros((10, 20, 3), dtype=np.uint8)
    img[:, 5:15] = 255  # the centre square is white
    Image.fromarray(img).save(tmp_path / "wide.png")
    out = Decoder(10)(list_items(tmp_path, min_side=4)[0])
    assert out.shape == (10, 10, 3) and out[:, 1:-1].min() > 240


def _truncate(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_list_items__truncated_file_stops_before_training(tmp_path, suffix):
    root = image_folder(tmp_path / "d", per_class=2, size=32, suffix=suffix)
    bad = root / "c1" / f"0{suffix}"
    _truncate(bad)
    with pytest.raises(DataError, match=rf"{bad}: truncated.*on_bad_image=skip"):
        list_items(root, min_side=4)


def test_list_items__corrupt_png_bytes(tmp_path):
    root = image_folder(tmp_path / "d", per_class=2, size=32)
    bad = root / "c0" / "1.png"
    data = bytearray(bad.read_bytes())
    data[60:70] = b"\x00" * 10  # inside the image data: the chunk checksum fails
    bad.write_bytes(bytes(data))
    with pytest.raises(DataError, match=rf"{bad}: truncated or corrupt"):
        list_items(root, min_side=4)


def test_list_items__zero_byte_and_non_image_files(tmp_path):
    root = image_folder(tmp_path / "d", per_class=2)
    (root / "c0" / "empty.png").write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.png: empty file \(0 bytes\)"):
        list_items(root, min_side=4)
    (root / "c0" / "empty.png").unlink()
    (root / "c1" / "notes.jpg").write_text("not a picture\n")
    with pytest.raises(DataError, match=r"notes\.jpg: not an image Pillow can read"):
        list_items(root, min_side=4)


def test_list_items__skip_leaves_bad_files_out_with_a_count(tmp_path):
    root = image_folder(tmp_path / "d", per_class=3)
    (root / "c0" / "empty.png").write_bytes(b"")
    (root / "c1" / "text.png").write_text("x")
    with pytest.warns(UserWarning, match="skipped 2 bad image file"):
        items = list_items(root, min_side=4, on_bad="skip")
    assert len(items) == 6


def test_list_items__folder_without_images(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "readme.txt").write_text("hi")
    with pytest.raises(DataError, match=r"no images found"):
        list_items(tmp_path / "d", min_side=4)
    with pytest.raises(DataError, match="no such file or folder"):
        list_items(tmp_path / "missing", min_side=4)


def test_list_items__image_smaller_than_a_patch(tmp_path):
    root = image_folder(tmp_path / "d", per_class=1)
    Image.new("RGB", (3, 20)).save(root / "c0" / "thin.png")
    with pytest.raises(DataError, match=r"thin\.png: 3x20 pixels is smaller than one 4x4 patch"):
        list_items(root, min_side=4)


def test_decoder__undecodable_file_found_late(tmp_path):
    root = image_folder(tmp_path / "d", per_class=1, size=32, suffix=".jpg")
    bad = root / "c0" / "0.jpg"
    data = bad.read_bytes()
    bad.write_bytes(data[:200] + data[-2:])  # keeps the end marker: only decoding finds it
    item = ImageItem(str(bad))
    with pytest.raises(DataError, match=rf"{bad}: cannot decode"):
        Decoder(8)(item)
    with pytest.warns(UserWarning, match="grey image"):
        assert Decoder(8, on_bad="skip")(item).tolist() == np.full((8, 8, 3), 128).tolist()


def test_list_items__reads_headers_only(tmp_path, monkeypatch):
    root = image_folder(tmp_path / "d", per_class=3)

    def no_decoding(self, *args, **kwargs):
        raise AssertionError("listing decoded pixels")

    monkeypatch.setattr(Image.Image, "load", no_decoding)
    monkeypatch.setattr(Image.Image, "convert", no_decoding)
    assert len(list_items(root, min_side=4, verify=True)) == 6
