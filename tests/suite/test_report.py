"""lifetf.suite.report and plots: summary, stored marking, figures, atomic writes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from lifetf.suite.catalogue import catalogue
from lifetf.suite.plots import plot_bars, plot_curves, plot_histograms, plot_rates
from lifetf.suite.report import collect_provenance, format_duration, render_report, write_report
from lifetf.suite.verdict import Estimate, Verdict

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PROVENANCE = {"profile": "quick", "seed_base": "1000", "commit": "abc1234", "date": "2025-01-01"}


def _verdicts(figure: str) -> list[Verdict]:
    """Three fake verdicts: one fresh with a figure and tables, one stored, one unexpected."""
    failing = Verdict(
        claim_id="GOL-MINIMAL-FAILS",
        verdict="reproduced",
        summary="Only 2 of 40 minimal networks succeeded.",
        estimates=[Estimate("success rate", 0.05, 0.0138, 0.165, 2, 40), Estimate("loss", 0.1)],
        test="one-sided binomial test",
        p_value=0.000123456,
        threshold="success rate < 0.5",
        design="40 trials; one-sided binomial test at alpha 0.05",
        false_failure=0.0123,
        trials=40,
        experiments=["exp-aaa", "exp-bbb"],
        protocol=[{"setting": "width", "value": 1}, {"setting": "steps", "value": 2}],
        table=[{"width": 1, "rate": 1 / 3, "losses": np.arange(20.0), "note": "a|b"}],
        figures=[figure],
        notes="Training used Adam.",
        seconds=12.34,
        profile="quick",
        recorded_at="2025-03-04T05:06:07+00:00",
    )
    capacity = Verdict(
        claim_id="GOL-CAPACITY",
        verdict="reproduced",
        summary="Hand-built weights reach zero loss.",
        estimates=[Estimate("loss", 0.0)],
        trials=1,
        seconds=0.5,
        profile="quick",
        recorded_at="2024-12-31T23:59:59+00:00",
    )
    corners = Verdict(
        claim_id="GOL-CORNERS",
        verdict="inconclusive",
        summary="Unclear.",
        estimates=[],
        seconds=3.0,
        profile="quick",
    )
    return [corners, failing, capacity]  # deliberately not in catalogue order


@pytest.fixture()
def report(tmp_path: Path) -> tuple[str, Path]:
    """Render the fake verdicts with a real plot_rates figure under tmp_path/figures."""
    png = plot_rates(
        {"width 1": [(1, 2, 40), (2, 1, 40)], "width 2": [(1, 30, 40), (2, 25, 40), (3, 0, 0)]},
        "steps",
        "success of minimal networks",
        tmp_path / "figures" / "GOL-MINIMAL-FAILS-rates.png",
        reference={"width 1": [(1, 0.1)], "paper": [(2, 0.2)]},
    )
    figure = png.relative_to(tmp_path).as_posix()
    verdicts = _verdicts(figure)
    text = render_report(verdicts, PROVENANCE, {"GOL-MINIMAL-FAILS", "GOL-CORNERS"}, tmp_path)
    return text, tmp_path


def _summary(text: str) -> str:
    """The summary section of a rendered report."""
    return text.split("## Summary", 1)[1].split("## Slowest claims", 1)[0]


def test_summary_lists_ids_and_verdicts_in_catalogue_order(report: tuple[str, Path]) -> None:
    text, _ = report
    summary = _summary(text)
    for claim_id, verdict in [("GOL-CAPACITY", "reproduced"), ("GOL-MINIMAL-FAILS", "reproduced"),
                              ("GOL-CORNERS", "inconclusive")]:
        assert f"[{claim_id}](#{claim_id.lower()})" in summary
        assert f"**{verdict}**" in summary
    order = [c.id for c in catalogue()]
    ids = sorted(("GOL-CAPACITY", "GOL-MINIMAL-FAILS", "GOL-CORNERS"), key=order.index)
    positions = [summary.index(f"[{i}]") for i in ids]
    assert positions == sorted(positions)
    assert "2 reproduced, 0 refuted, 1 inconclusive" in summary
    assert "0.000123" in summary and "12.3" in summary
    assert "success rate = 0.05 [0.0138, 0.165] (2/40)" in summary
    assert text.startswith("# lifetf report")
    assert "| abc1234 " in text  # provenance table, hash not re-parsed as a number


def test_stored_verdicts_are_marked(report: tuple[str, Path]) -> None:
    text, _ = report
    row = next(line for line in _summary(text).splitlines() if "[GOL-CAPACITY]" in line)
    assert "**reproduced** (stored, 2024-12-31)" in row
    fresh = next(line for line in _summary(text).splitlines() if "[GOL-MINIMAL-FAILS]" in line)
    assert "stored" not in fresh


def test_not_yet_checked_lists_missing_claims(report: tuple[str, Path]) -> None:
    line = next(ln for ln in report[0].splitlines() if ln.startswith("Not yet checked:"))
    assert "LAND-BARRIERS" in line and "GOL-WIDTH-HELPS" in line
    assert "GOL-CAPACITY" not in line
    assert len(line.split(": ", 1)[1].split(", ")) == len(catalogue()) - 3


def test_figure_is_png_and_linked(report: tuple[str, Path]) -> None:
    text, root = report
    png = root / "figures" / "GOL-MINIMAL-FAILS-rates.png"
    assert png.read_bytes()[:8] == PNG_MAGIC
    assert "![GOL-MINIMAL-FAILS](figures/GOL-MINIMAL-FAILS-rates.png)" in text
    assert [p.name for p in png.parent.iterdir()] == [png.name]  # no temp files left


def test_claim_section_contents(report: tuple[str, Path]) -> None:
    section = report[0].split("## GOL-MINIMAL-FAILS", 1)[1].split("\n## ", 1)[0]
    assert "> the networks ... were certainly getting stuck" in section
    assert "**Verdict: reproduced**" in section
    assert "false-failure chance 0.0123" in section
    assert "**Protocol**" in section and "| width " in section
    assert "0.3333" in section  # floats to 4 significant digits
    assert "[0, 1, 2, 3, 4, 5, 6, 7, … (20 items)]" in section  # arrays shortened
    assert "a\\|b" in section  # pipes escaped inside table cells
    assert "- loss = 0.1" in section
    assert "Experiments: `exp-aaa`, `exp-bbb`" in section
    assert "## Slowest claims" in report[0]


def test_render_is_deterministic_and_flags_unexpected(tmp_path: Path) -> None:
    verdicts = _verdicts("figures/x.png")
    verdicts[1].verdict = "refuted"
    first = render_report(verdicts, PROVENANCE, set(), tmp_path)
    assert first == render_report(list(reversed(verdicts)), PROVENANCE, set(), tmp_path)
    assert "expected reproduced, found refuted" in first
    assert "(stored)" in first  # GOL-CORNERS has no recorded_at


def test_shared_trial_set_times_are_listed_apart_from_the_claims(tmp_path: Path) -> None:
    from lifetf.suite.trialsets import SetTiming

    verdicts = _verdicts("figures/x.png")
    sweep = SetTiming("sweep", 412.5, 12, 336, "2026-11-30T10:00:00+00:00", trained=336)
    minimal = SetTiming("minimal", 48.3, 4, 192, "2026-11-30T10:00:00+00:00")  # no count kept
    text = render_report(verdicts, PROVENANCE, set(), tmp_path, sets=[sweep, minimal])
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
            for line in text.splitlines() if line.startswith(("| sweep ", "| minimal "))}
    assert rows == {"sweep": ["412.5", "12", "336", "336", "2026-11-30T10:00:00+00:00"],
                    "minimal": ["48.3", "4", "192", "—", "2026-11-30T10:00:00+00:00"]}
    assert "| trial set " not in render_report(verdicts, PROVENANCE, set(), tmp_path)


def test_write_report_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "out" / "report.md"
    assert write_report(_verdicts("figures/x.png"), PROVENANCE, set(), path) == path
    write_report([], PROVENANCE, set(), path)  # overwrite in place
    assert [p.name for p in path.parent.iterdir()] == ["report.md"]
    text = path.read_text(encoding="utf-8")
    assert "0 reproduced, 0 refuted, 0 inconclusive" in text
    assert f"Not yet checked: {catalogue()[0].id}" in text


def test_other_plots_write_pngs(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    paths = [
        plot_curves({"failed": rng.random((3, 10)) + 0.1, "succeeded": rng.random((2, 10))},
                    "epoch", "loss", "loss curves", tmp_path / "a" / "curves.png", logy=True),
        plot_bars({"a": 0.5, "b": 0.2}, "rate", "bars", tmp_path / "bars.png",
                  errors={"a": (0.3, 0.7)}),
        plot_histograms({"softmax": rng.random(50), "sigmoid": np.array([])}, "confidence",
                        "hist", tmp_path / "hist.png"),
    ]
    for path in paths:
        assert path.read_bytes()[:8] == PNG_MAGIC
    assert not list(tmp_path.glob("**/*.tmp"))


def test_format_duration() -> None:
    assert format_duration(12.34) == "12.3 s"
    assert format_duration(245) == "4 min 05 s"
    assert format_duration(3723) == "1 h 02 min 03 s"


def test_provenance_keys() -> None:
    started = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    prov = collect_provenance("quick", 1000, started, 75.0)
    for key in ("python", "tensorflow", "keras", "numpy", "scipy", "device", "commit", "date"):
        assert prov[key], key
    assert prov["date"] == "2025-01-02T03:04:05+00:00"
    assert prov["profile"] == "quick" and prov["seed_base"] == "1000"
    assert prov["total_time"] == "1 min 15 s"
    assert prov["device"].startswith(("GPU: ", "CPU: "))
    assert all(isinstance(v, str) for v in prov.values())


def test_runs_side_by_side_flag_a_verdict_that_differs(tmp_path: Path) -> None:
    from dataclasses import replace

    quick = _verdicts("figures/x.png")
    gpu = [replace(v, verdict="refuted") if v.claim_id == "GOL-CORNERS" else v
           for v in quick[:2]]
    runs = {"quick, tensorflow": quick, "gpu, jax": gpu}
    text = render_report(quick, PROVENANCE, set(), tmp_path, runs)
    section = text.split("## Verdicts per profile and Keras backend")[1].split("\n## ")[0]
    assert "verdict (quick, tensorflow)" in section and "verdict (gpu, jax)" in section
    assert "1 of 2 claims run in every column have the same verdict" in section
    assert "differing: GOL-CORNERS" in section
    alone = render_report(quick, PROVENANCE, set(), tmp_path, {"quick, tensorflow": quick})
    assert "Verdicts per profile" not in alone


def test_run_provenance_is_kept_apart_from_the_verdicts_and_a_bad_file_is_named(tmp_path):
    from datetime import UTC, datetime

    from lifetf.suite.report import rebuilt_provenance, save_run_provenance
    from lifetf.suite.store import load_verdicts

    path = save_run_provenance({"device": "GPU: NVIDIA H200"}, tmp_path)
    assert path.parent != tmp_path and load_verdicts(tmp_path) == []  # not read as a verdict
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert rebuilt_provenance(tmp_path, "quick", 0, now)["device"] == "GPU: NVIDIA H200"
    path.write_text('{"device": 3}')
    with pytest.warns(UserWarning, match="unreadable run provenance .*provenance.json"):
        here = rebuilt_provenance(tmp_path, "quick", 0, now)
    assert here["date"] == "2026-12-01T00:00:00+00:00"
    assert here["total_time"] == "rebuilt from stored results (no training)"


def test_what_trained_the_trials_is_in_the_provenance_and_each_claim(tmp_path: Path) -> None:
    here, other = "tensorflow 2.21.0, keras 3.15.1 on cpu", "jax 0.11.0 on NVIDIA H200"
    corners, failing, capacity = _verdicts("figures/x.png")
    failing.trained_with = {here: 30, other: 10}
    corners.trained_with = {here: 12}
    capacity.trained_with = None  # a verdict file from before the record
    text = render_report([corners, failing, capacity], PROVENANCE, set(), tmp_path)
    row = next(line for line in text.splitlines() if line.startswith("| trials trained with"))
    assert (f"{here} (2 claims); {other} (1 claim: GOL-MINIMAL-FAILS); not recorded (verdict "
            "files older than this record) (1 claim: GOL-CAPACITY)") in row
    section = text.split("## GOL-MINIMAL-FAILS")[1].split("\n## ")[0]
    assert f"Trials trained with: {here} (30 trials); {other} (10 trials)" in section
    assert "Trials trained with" not in text.split("## GOL-CAPACITY")[1].split("\n## ")[0]
    capacity.trained_with = {}  # read no stored trials
    text = render_report([capacity, failing], PROVENANCE, set(), tmp_path)
    row = next(line for line in text.splitlines() if line.startswith("| trials trained with"))
    assert (f"{here} (1 claim: GOL-MINIMAL-FAILS); {other} (1 claim: GOL-MINIMAL-FAILS); "
            "no stored trials read (1 claim: GOL-CAPACITY)") in row
    text = render_report([], PROVENANCE, set(), tmp_path)
    assert re.search(r"^\| trials trained with +\| — +\|$", text, re.MULTILINE)
