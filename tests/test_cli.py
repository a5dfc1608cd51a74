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


def test_cli_report_rebuilds_with_the_trial_set_times(tmp_path):
    from lifetf.nets.backends import current
    from lifetf.suite.session import results_dir_for
    from lifetf.suite.store import save_verdict
    from lifetf.suite.trialsets import SetTiming
    from lifetf.suite.verdict import Verdict

    backend = current().name  # TensorFlow, or JAX where CI runs without TensorFlow
    report = tmp_path / "REPORT.md"
    results = results_dir_for(report, "quick", 0, backend)
    save_verdict(Verdict(claim_id="GOL-TRICKS", verdict="refuted", summary="s", estimates=[],
                         seconds=33.3), results)
    SetTiming("sweep", 337.8, 12, 336, "2026-11-30T11:50:00+00:00").save(results)
    assert main(["report", "--report", str(report), "--backend", backend]) == 0
    text = report.read_text()
    assert "| sweep " in text and "337.8" in text and "GOL-TRICKS" in text


def test_cli_report_keeps_the_provenance_of_the_run_that_stored_the_results(tmp_path):
    from lifetf.nets.backends import current
    from lifetf.suite.report import save_run_provenance
    from lifetf.suite.session import results_dir_for
    from lifetf.suite.store import save_verdict
    from lifetf.suite.verdict import Verdict

    backend = current().name
    report = tmp_path / "REPORT.md"
    results = results_dir_for(report, "quick", 0, backend)
    save_verdict(Verdict(claim_id="GOL-TRICKS", verdict="refuted", summary="s", estimates=[],
                         seconds=33.3), results)
    def provenance_rows() -> dict[str, str]:
        return {line.split("|")[1].strip(): line.split("|")[2].strip()
                for line in report.read_text().split("## Summary")[0].splitlines()
                if line.startswith("| ")}

    assert main(["report", "--report", str(report), "--backend", backend]) == 0
    assert provenance_rows()["total_time"] == "rebuilt from stored results (no training)"

    save_run_provenance({"profile": "quick", "device": "GPU: NVIDIA H200", "date": "then",
                         "total_time": "9 min 0 s"}, results)
    assert main(["report", "--report", str(report), "--backend", backend]) == 0
    rows = provenance_rows()
    assert rows["device"] == "GPU: NVIDIA H200" and rows["date"] == "then"
    assert rows["total_time"] == "9 min 0 s"
    assert rows["rebuilt"].endswith("from stored results (no training)")
