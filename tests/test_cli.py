"""The command line: seeds, bad experiments and backends are clear errors."""

from __future__ import annotations

import pytest

from lifetf.cli import main, parse_seeds


def test_parse_seeds():
    assert parse_seeds("1-3") == [1, 2, 3]
    assert parse_seeds("4,9,2") == [4, 9, 2]
    for bad in ("1-x", "5-2", "1,1", "-3"):
        with pytest.raises(Exception, match="invalid seeds"):
            parse_seeds(bad)


def test_cli_train_rejects_bad_experiment(capsys):
    assert main(["train", "--density", "2", "--seeds", "1", "--no-cache"]) == 2
    assert "Experiment.density = 2.0" in capsys.readouterr().err


def test_the_parser_imports_no_keras_so_any_backend_can_still_be_chosen():
    import os
    import subprocess
    import sys

    code = ("import sys; from lifetf.cli import make_parser; make_parser(); "
            "assert 'keras' not in sys.modules, 'keras imported before --backend is read'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env={k: v for k, v in os.environ.items()
                                            if k != "KERAS_BACKEND"})
    assert done.returncode == 0, done.stderr
