"""Audio speed: seconds of audio per second through decode + log-mel, and the training step.

Measures, on one machine in one run:

1. **decode**: clips/s and audio-seconds/s through the plugin's decoder (soundfile read,
   soxr resampling when the file's rate differs, mono mixdown), for 16 kHz WAV files and
   for 44.1 kHz stereo FLAC files;
2. **log-mel**: the batched torch frontend (one ``torch.stft`` + mel matmul for the whole
   batch, on ``--device``) against ``librosa.feature.melspectrogram`` clip by clip, with
   the same settings;
3. **train**: samples/s (and audio-seconds/s) of the trainer's own ``train_step`` at the
   plugin's default size (2 s clips, 5 x 12 tokens, ViT 96 x 4, batch 32), the frontend
   included.

Usage: ``python benchmarks/bench_audio.py [--device cpu|cuda] [--clips N] [--steps N]
[--out benchmarks/results]`` (writes ``audio.json`` and ``audio.md``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
import torch

from jepa_core.bench.trainer_steps import bench_trainer, synchronize
from jepa_core.config import build_config
from jepa_core.registry import create_modality
from jepa_core.run import build_model
from modalities.audio.frontend import LogMel
from modalities.audio.options import AudioOptions
from modalities.audio.readers import Decoder, list_items
from modalities.audio.synth import CLASSES, sound


def _write(root: Path, clips: int, rate: int, channels: int, suffix: str) -> Path:
    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    for i in range(clips):
        y = sound(CLASSES[i % len(CLASSES)], rng)
        if rate != 16000:
            y = librosa.resample(y, orig_sr=16000, target_sr=rate)
        data = np.stack([y] * channels, 1) if channels > 1 else y
        sf.write(root / f"{i:04d}{suffix}", data.astype(np.float32), rate)
    return root


def bench_decode(root: Path, opts: AudioOptions) -> dict:
    items = list_items(root, opts)
    decode = Decoder(opts)
    tic = time.perf_counter()
    waves = [decode(it)[0] for it in items]
    seconds = time.perf_counter() - tic
    return {"clips": len(items), "clips_per_s": len(items) / seconds,
            "audio_s_per_s": len(items) * opts.clip_seconds / seconds, "waves": waves}


def bench_logmel(waves: np.ndarray, opts: AudioOptions, device: torch.device, repeats: int = 3) -> dict:
    frontend = LogMel(opts).to(device)
    x = torch.from_numpy(waves).to(device)
    frontend(x[:2])
    synchronize(device)
    best = float("inf")
    for _ in range(repeats):
        tic = time.perf_counter()
        frontend(x)
        synchronize(device)
        best = min(best, time.perf_counter() - tic)
    tic = time.perf_counter()
    for w in waves:
        np.log(librosa.feature.melspectrogram(
            y=w, sr=opts.sample_rate, n_fft=opts.n_fft, hop_length=opts.hop_length,
            win_length=opts.win_length, center=True, pad_mode="constant", n_mels=opts.n_mels,
            fmin=opts.fmin, fmax=opts.top_hz) + opts.log_floor)
    per_clip = time.perf_counter() - tic
    audio = len(waves) * opts.clip_seconds
    return {"batch": len(waves), "torch_batched_audio_s_per_s": audio / best,
            "librosa_per_clip_audio_s_per_s": audio / per_clip, "speedup": per_clip / best}


def bench_train(device: torch.device, steps: int) -> dict:
    plugin = create_modality("audio")
    cfg = build_config({"modality": "audio"}, plugin.default_config(), {"optim": {"amp": False}})
    opts = plugin._opts(cfg, None)
    state = {"options": dataclasses.asdict(opts), "mean": -7.0, "std": 2.4}
    model = build_model(cfg, plugin, state)
    b = cfg.data.batch_size
    trainer = bench_trainer(model, cfg, [None] * b, list, device, steps=1000)
    trainer.model.train()
    batch = {"audio": 0.1 * torch.randn(b, opts.clip_samples, device=device),
             "length": torch.full((b,), opts.clip_samples, device=device), "error": [""] * b}
    times = []
    for step in range(steps + 2):
        synchronize(device)
        tic = time.perf_counter()
        trainer.train_step(step, torch.arange(b, device=device) + b * step, batch)
        synchronize(device)
        times.append(time.perf_counter() - tic)
    median = float(np.median(times[2:]))
    return {"batch": b, "grid": list(opts.grid), "step_s": median, "samples_per_s": b / median,
            "audio_s_per_s": b * opts.clip_seconds / median}


def _chain(*rates: float) -> float:
    """Throughput of stages run one after the other on the same core."""
    return 1.0 / sum(1.0 / r for r in rates)


def markdown(result: dict, opts: AudioOptions) -> str:
    """The results table of ``result`` (as written to ``audio.json``)."""
    wav, flac = result["decode_wav_16k_mono"], result["decode_flac_44k1_stereo_resampled"]
    lm, tr = result["logmel"], result["train_default"]
    torch_lm, librosa_lm = lm["torch_batched_audio_s_per_s"], lm["librosa_per_clip_audio_s_per_s"]
    rows = [("decode 16 kHz mono WAV (soundfile)", wav["audio_s_per_s"]),
            ("decode 44.1 kHz stereo FLAC + soxr to 16 kHz + mixdown", flac["audio_s_per_s"]),
            (f"log-mel, torch batched ({lm['batch']} clips, one call)", torch_lm),
            ("log-mel, librosa clip by clip", librosa_lm),
            ("decode WAV + log-mel, torch batched", _chain(wav["audio_s_per_s"], torch_lm)),
            ("decode WAV + log-mel, librosa per clip", _chain(wav["audio_s_per_s"], librosa_lm)),
            ("decode FLAC/soxr + log-mel, torch batched", _chain(flac["audio_s_per_s"], torch_lm)),
            ("decode FLAC/soxr + log-mel, librosa per clip", _chain(flac["audio_s_per_s"], librosa_lm)),
            (f"training step, default size (batch {tr['batch']}, grid {tr['grid'][0]} x {tr['grid'][1]}, "
             "frontend included)", tr["audio_s_per_s"])]
    lines = ["# Audio plugin speed (`python benchmarks/bench_audio.py`)", "",
             f"Device `{result['device']}`, {result['torch_threads']} torch thread(s), on a 2-core CPU shared "
             "with other jobs (load average 7-10: the numbers are rough). Seconds of audio processed "
             f"per wall second, {opts.clip_seconds:g} s clips; decode + log-mel rows chain the two stages "
             "on one core.", "", "| stage | audio s / s | clips / s |", "|---|---|---|"]
    lines += [f"| {name} | {rate:.0f} | {rate / opts.clip_seconds:.0f} |" for name, rate in rows]
    lines += ["", f"The batched frontend is {lm['speedup']:.1f}x librosa clip by clip on the same CPU core "
              f"(and runs on the GPU with the training step when there is one); one training step takes "
              f"{tr['step_s'] * 1000:.0f} ms, so training, not decoding or the frontend, bounds throughput "
              "at the default size.", ""]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--clips", type=int, default=64)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--out", default="benchmarks/results")
    args = p.parse_args()
    torch.set_num_threads(1)
    device = torch.device(args.device)
    opts = AudioOptions()
    result = {"device": str(device), "machine": platform.processor() or platform.machine(),
              "torch_threads": torch.get_num_threads(), "clip_seconds": opts.clip_seconds}
    with tempfile.TemporaryDirectory() as tmp:
        wav = bench_decode(_write(Path(tmp) / "wav", args.clips, 16000, 1, ".wav"), opts)
        flac = bench_decode(_write(Path(tmp) / "flac", args.clips, 44100, 2, ".flac"), opts)
    waves = np.stack(wav.pop("waves"))
    flac.pop("waves")
    result["decode_wav_16k_mono"] = wav
    result["decode_flac_44k1_stereo_resampled"] = flac
    result["logmel"] = bench_logmel(waves, opts, device)
    result["train_default"] = bench_train(device, args.steps)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "audio.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "audio.md").write_text(markdown(result, opts))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
