"""``jepa plot``: one PNG of the training curves, or one clear error."""

import json

import matplotlib.image
import pytest

from jepa_core import cli
from jepa_core.plot import DPI, FIGSIZE, plot_run, read_metrics, series
from jepa_core.registry import register_modality
from jepa_core.run import RunError
from tests.toy_modality import ToyModality, write_toy_data

register_modality("toy", ToyModality)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def probed_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plot")
    data = write_toy_data(tmp / "x.npy")
    run = tmp / "run"
    assert cli.main(["pretrain", "toy", "--data", str(data), "--out", str(run), "--steps", "6",
                     "--probe-label", "sign", "--set", "logging.probe_every=3"]) == 0
    return run


def test_plot__writes_a_png_of_the_expected_size_by_default_in_the_run(probed_run, capsys):
    assert cli.main(["plot", str(probed_run)]) == 0
    out = probed_run / "metrics.png"
    assert capsys.readouterr().out.strip() == str(out)
    assert out.read_bytes()[:8] == PNG_SIGNATURE
    image = matplotlib.image.imread(out)
    assert image.shape[:2] == (int(FIGSIZE[1] * DPI), int(FIGSIZE[0] * DPI))


def test_plot__out_path_and_a_run_without_online_probe(tmp_path):
    data = write_toy_data(tmp_path / "x.npy")
    run = tmp_path / "r"
    assert cli.main(["pretrain", "toy", "--data", str(data), "--out", str(run), "--steps", "3"]) == 0
    out = plot_run(tmp_path / "r", tmp_path / "figs" / "curves.png")
    assert out == tmp_path / "figs" / "curves.png" and out.read_bytes()[:8] == PNG_SIGNATURE


def test_plot__run_without_metrics_is_one_clear_error(tmp_path, capsys):
    run = tmp_path / "empty"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"modality": "toy"}))
    assert cli.main(["plot", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "metrics.jsonl is missing" in err and "Traceback" not in err
    (run / "metrics.jsonl").write_text("")
    with pytest.raises(RunError, match="holds no metrics records"):
        plot_run(run)
    assert not (run / "metrics.png").exists()


def test_plot__not_a_run_directory(tmp_path, capsys):
    assert cli.main(["plot", str(tmp_path)]) == 2
    assert "is not a run directory" in capsys.readouterr().err


def test_read_metrics__skips_a_line_cut_short_and_series_keeps_the_last_value(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1, "loss": 2.0}\n{"step": 2, "loss": 1.5}\n'
                    '{"step": 1, "loss": 1.9}\n{"step": 3, "lo')
    records = read_metrics(path)
    assert len(records) == 3
    assert series(records, "loss") == ([1, 2], [1.9, 1.5])


def test_plot__probe_series_present_in_the_run(probed_run):
    records = read_metrics(probed_run / "metrics.jsonl")
    steps, values = series(records, "probe_accuracy")
    assert steps == [0, 3, 6] and all(0 <= v <= 1 for v in values)
