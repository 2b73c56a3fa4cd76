import torch

from jepa_core.ops.masking.philox import MASK32, below, philox4x32, philox4x32_scalar, seed_key


def test_philox__known_answer_vectors():
    # Random123 known-answer tests for Philox4x32-10.
    assert philox4x32_scalar((0, 0, 0, 0), (0, 0)) == (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)
    ones = (MASK32,) * 4
    assert philox4x32_scalar(ones, (MASK32, MASK32)) == (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)


def test_philox__torch_matches_scalar():
    g = torch.Generator().manual_seed(0)
    c = torch.randint(0, 1 << 32, (200, 4), generator=g)
    got = philox4x32(*c.T, 0x12345678, 0x9ABCDEF0)
    want = torch.tensor([philox4x32_scalar(tuple(r), (0x12345678, 0x9ABCDEF0)) for r in c.tolist()])
    assert torch.equal(got, want)


def test_philox__words_are_32_bit_and_uniform():
    c0 = torch.arange(20000)
    z = torch.zeros_like(c0)
    w = philox4x32(c0, z, z, z, 7, 0)
    assert int(w.min()) >= 0 and int(w.max()) <= MASK32
    r = below(w[:, 0], 10)
    counts = torch.bincount(r, minlength=10).float()
    assert (counts / counts.mean() - 1).abs().max() < 0.08


def test_seed_key__negative_seed_wraps():
    assert seed_key(-1) == (MASK32, MASK32)
    assert seed_key((1 << 32) + 5) == (5, 1)
