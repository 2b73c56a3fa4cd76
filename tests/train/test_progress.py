"""Progress on stderr: plain lines every tenth of a loop when stderr is not a terminal."""

from jepa_core.train.progress import LoopProgress


def test_loop_progress__without_a_terminal_prints_a_line_every_tenth(capsys):
    bar = LoopProgress(20, "plan two-room", "episode")
    for i in range(20):
        bar.update(successes=i, loss=0.5)
    bar.close()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 10
    assert lines[0] == "plan two-room: episode 2/20  successes 1  loss 0.5000"
    assert lines[-1].startswith("plan two-room: episode 20/20  successes 19")


def test_loop_progress__short_loop_prints_every_update_and_disabled_prints_nothing(capsys):
    bar = LoopProgress(3, "decode", "epoch")
    for _ in range(3):
        bar.update()
    quiet = LoopProgress(3, "decode", "epoch", enabled=False)
    quiet.update()
    assert capsys.readouterr().err.splitlines() == ["decode: epoch 1/3", "decode: epoch 2/3",
                                                     "decode: epoch 3/3"]
