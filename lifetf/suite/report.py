"""The markdown report: provenance, a summary of all verdicts, and one section per claim.

Rendering is a pure function of its inputs (no clocks), so the same verdicts always give the
same text; writing is atomic so a reader never sees a half-written report.
"""

from __future__ import annotations

import importlib.metadata
import numbers
import platform
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from tabulate import tabulate

from lifetf.nets.provenance import commit, device_label
from lifetf.suite.catalogue import Claim, catalogue, get_claim
from lifetf.suite.io import atomic_write_json, atomic_write_text, read_json_record
from lifetf.suite.verdict import VERDICTS, Verdict

if TYPE_CHECKING:
    from lifetf.suite.trialsets import SetTiming

__all__ = ["collect_provenance", "framework_provenance", "rebuilt_provenance", "render_report",
           "save_run_provenance", "write_report"]

MAX_ITEMS = 8  # list and array cells show at most this many items
DASH = "—"

INTRO = (
    "Statistical checks of published claims about neural networks getting stuck in bad minima "
    "(the Game of Life experiments and related claims about loss landscapes, escaping minima, "
    "outputs and regularisation). Each claim is tested by training many small Keras models; "
    "a pre-registered test with a stated threshold and a known false-failure chance decides "
    "whether it is **reproduced**, **refuted** or **inconclusive**."
)


# --------------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _distributions() -> dict[str, list[str]]:
    """Top-level module -> the installed distributions that provide it (read once)."""
    return importlib.metadata.packages_distributions()


def _version(module: str) -> str:
    """A module's version: its __version__ if this process imported it, else its installed
    distribution's (read without importing it, so that a JAX run does not import TensorFlow
    just to name its version); 'not installed' if there is neither."""
    if module in sys.modules:
        return str(getattr(sys.modules[module], "__version__", "unknown"))
    for distribution in _distributions().get(module, []):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "not installed"


def format_duration(seconds: float) -> str:
    """Human-readable duration: '12.3 s', '4 min 05 s' or '1 h 02 min 03 s'."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min {secs:02d} s"


FRAMEWORK_FIELDS = ("backend", "precision", "device", "keras", "tensorflow", "jax")


def framework_provenance() -> dict[str, str]:
    """The part of a run's provenance that only the process running the models knows: backend,
    precision, device and framework versions. It imports the backend, so under ``-n`` each
    worker sends its own to the controller (``workeroutput``) instead of the controller
    importing TensorFlow just to write the report."""
    from lifetf.nets.backends import current, precision

    return {"backend": current().name, "precision": precision(), "device": device_label(),
            "keras": _version("keras"), "tensorflow": _version("tensorflow"),
            "jax": _version("jax")}  # the order of FRAMEWORK_FIELDS


def collect_provenance(
    profile: str, seed_base: int, started: datetime, total_seconds: float,
    framework: dict[str, str] | None = None,
) -> dict[str, str]:
    """Where and with what this session ran: profile, seeds, backend, precision, library
    versions, device, commit. ``framework`` is :func:`framework_provenance` of the process that
    ran the claims (a worker's); without it the backend is imported here (lazily), so that
    importing the report stays cheap.
    """
    framework = framework if framework is not None else framework_provenance()
    missing = [name for name in FRAMEWORK_FIELDS if not isinstance(framework.get(name), str)]
    if missing:
        raise ValueError(f"framework provenance lacks {', '.join(missing)}: {framework!r}")
    return {
        "profile": profile,
        "seed_base": str(seed_base),
        "backend": framework["backend"],
        "precision": framework["precision"],
        "device": framework["device"],
        "python": platform.python_version(),
        "keras": framework["keras"],
        "tensorflow": framework["tensorflow"],
        "jax": framework["jax"],
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "commit": commit(),
        "date": started.astimezone(UTC).isoformat(timespec="seconds"),
        "total_time": format_duration(total_seconds),
    }


RUN_PROVENANCE = Path("run", "provenance.json")  # in a run's results folder, apart
# from the verdict files (every *.json at its top is read as one)


def save_run_provenance(provenance: dict[str, str], results_dir: Path) -> Path:
    """Keep the run's provenance beside its verdict files (atomically), so that a report rebuilt
    later, or on another machine, still says where and with what the results were made."""
    return atomic_write_json(Path(results_dir) / RUN_PROVENANCE, provenance)


def _provenance_table(data: dict) -> dict[str, str]:
    """A saved provenance, checked to be a table of strings (as :func:`collect_provenance`
    makes)."""
    if not (isinstance(data, dict) and all(isinstance(v, str) for v in data.values())):
        raise TypeError("not a table of strings")
    return data


def _stored_provenance(results_dir: Path) -> dict[str, str] | None:
    """The provenance the last run saved beside its results; None if there is none (results
    stored before it was kept) or it cannot be read (named in a warning)."""
    return read_json_record(Path(results_dir) / RUN_PROVENANCE, _provenance_table,
                            "run provenance")


def rebuilt_provenance(results_dir: Path, profile: str, seed_base: int,
                       now: datetime) -> dict[str, str]:
    """Provenance of a report rebuilt from stored results without training: the run's own, as it
    saved it, plus a row saying when and where the report was rebuilt (this machine's
    provenance where the run saved none)."""
    here = collect_provenance(profile, seed_base, now, 0.0)
    stored = _stored_provenance(results_dir)
    rebuilt = "from stored results (no training)"
    if stored is None:
        return {**here, "total_time": f"rebuilt {rebuilt}"}
    return {**stored, "rebuilt": f"{here['date']} on {here['device']} at commit "
                                 f"{here['commit']}, {rebuilt}"}


# --------------------------------------------------------------------------------------------
# Cells and tables
# --------------------------------------------------------------------------------------------


def _escape(text: str) -> str:
    """Make text safe inside a markdown table cell (no pipes, no line breaks)."""
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _format_value(value: object) -> str:
    """Floats to 4 significant digits, lists/arrays shortened to MAX_ITEMS items, None as a dash."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return f"{float(value):.4g}"
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):
        return _format_value(value.tolist())  # numpy arrays and scalars
    if isinstance(value, list | tuple):
        items = [_format_value(item) for item in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            items.append(f"… ({len(value)} items)")
        return "[" + ", ".join(items) + "]"
    return str(value)


def _table(rows: list[list[str]], headers: list[str]) -> str:
    """A github-style markdown table of already-formatted string cells (no number re-parsing)."""
    cells = [[_escape(cell) for cell in row] for row in rows]
    return tabulate(cells, headers=[_escape(h) for h in headers], tablefmt="github",
                    disable_numparse=True)


def _dict_table(records: list[dict]) -> str:
    """Table of a list of dicts with the union of their keys as columns (first-seen order)."""
    keys = list(dict.fromkeys(key for record in records for key in record))
    rows = [[_format_value(record.get(key)) for key in keys] for record in records]
    return _table(rows, [str(key) for key in keys])


def _anchor(claim_id: str) -> str:
    """The GitHub-style anchor of a '## <ID>' heading."""
    return "#" + re.sub(r"[^\w\- ]", "", claim_id.lower()).replace(" ", "-")


# --------------------------------------------------------------------------------------------
# Report sections
# --------------------------------------------------------------------------------------------


def _claim(claim_id: str) -> Claim | None:
    """The catalogue entry, or None for an ID no longer in the catalogue (old stored verdict)."""
    try:
        return get_claim(claim_id)
    except ValueError:
        return None


def _expected(verdict: Verdict) -> str | None:
    """The verdict the catalogue expects for this verdict's profile, if any."""
    claim = _claim(verdict.claim_id)
    return claim.expected_for(verdict.profile) if claim else None


def _ordered(verdicts: Iterable[Verdict]) -> list[Verdict]:
    """Verdicts in catalogue order; unknown IDs last, in their given order."""
    order = {claim.id: i for i, claim in enumerate(catalogue())}
    return sorted(verdicts, key=lambda v: order.get(v.claim_id, len(order)))


def _stored_note(verdict: Verdict, fresh_ids: set[str]) -> str:
    """' (stored, <date>)' for a verdict not re-run this session, else ''."""
    if verdict.claim_id in fresh_ids:
        return ""
    date = re.split(r"[T ]", verdict.recorded_at, maxsplit=1)[0]
    return f" (stored, {date})" if date else " (stored)"


def _p_value(p: float | None) -> str:
    """p-value to 3 significant digits, or a dash."""
    return DASH if p is None else f"{p:.3g}"


def _summary_section(verdicts: list[Verdict], fresh_ids: set[str]) -> list[str]:
    """The summary table, unchecked claims, verdict counts and unexpected verdicts."""
    rows = []
    for v in verdicts:
        claim = _claim(v.claim_id)
        rows.append([
            f"[{v.claim_id}]({_anchor(v.claim_id)})",
            claim.statement if claim else "(not in the catalogue)",
            claim.source if claim else DASH,
            f"**{v.verdict}**{_stored_note(v, fresh_ids)}",
            _expected(v) or DASH,
            str(v.key_estimate) if v.key_estimate else DASH,
            _p_value(v.p_value),
            str(v.trials),
            f"{v.seconds:.1f}",
        ])
    headers = ["ID", "claim", "source", "verdict", "expected", "key estimate", "p-value",
               "trials", "time (s)"]
    parts = ["## Summary", _table(rows, headers)]
    checked = {v.claim_id for v in verdicts}
    unchecked = [claim.id for claim in catalogue() if claim.id not in checked]
    if unchecked:
        parts.append("Not yet checked: " + ", ".join(unchecked))
    counts = {name: sum(v.verdict == name for v in verdicts) for name in VERDICTS}
    parts.append(", ".join(f"{n} {name}" for name, n in counts.items()))
    differing = [
        f"- [{v.claim_id}]({_anchor(v.claim_id)}): expected {_expected(v)}, found {v.verdict}"
        for v in verdicts
        if _expected(v) is not None and _expected(v) != v.verdict
    ]
    if differing:
        parts.append("Verdicts that differ from the expected ones:\n\n" + "\n".join(differing))
    return parts


def _runs_section(runs: dict[str, list[Verdict]]) -> list[str]:
    """Each claim's verdict and key estimate per stored run ("profile, backend"), where two or
    more runs have results."""
    have = {name: {v.claim_id: v for v in verdicts} for name, verdicts in runs.items()
            if verdicts}
    if len(have) < 2:
        return []
    names = list(have)
    ids = [claim.id for claim in catalogue() if any(claim.id in found for found in have.values())]
    rows, differ = [], []
    for claim_id in ids:
        found = [have[name].get(claim_id) for name in names]
        row = [f"[{claim_id}]({_anchor(claim_id)})"]
        for v in found:
            row += [f"**{v.verdict}**" if v else DASH,
                    str(v.key_estimate) if v and v.key_estimate else DASH]
        verdicts = {v.verdict for v in found if v}
        row.append("yes" if len(verdicts) == 1 and all(found) else "**no**" if all(found)
                   else DASH)
        if all(found) and len(verdicts) > 1:
            differ.append(claim_id)
        rows.append(row)
    headers = ["ID"] + [f"{label} ({name})" for name in names
                        for label in ("verdict", "key estimate")] + ["same verdict"]
    both = sum(all(have[name].get(i) for name in names) for i in ids)
    note = (f"{both - len(differ)} of {both} claims run in every column have the same verdict"
            + (f"; differing: {', '.join(differ)}." if differ else "."))
    return ["## Verdicts per profile and Keras backend",
            "Within a profile, the backends see the same boards, dropout masks and starting "
            "weights (one counter-based generator), so differences come from floating-point "
            "arithmetic only. Between profiles the sizes differ (boards, batches, grids, trials), "
            "and a larger size can rightly change a verdict: each claim's section says why.",
            _table(rows, headers), note]


def _slowest_section(verdicts: list[Verdict], n: int = 5,
                     sets: Sequence[SetTiming] = ()) -> list[str]:
    """The n slowest claims by seconds (ties in catalogue order), then the shared trial sets'
    times, which the claims' times leave out."""
    slowest = sorted(verdicts, key=lambda v: -v.seconds)[:n]
    rows = [[f"[{v.claim_id}]({_anchor(v.claim_id)})", f"{v.seconds:.1f}", str(v.trials)]
            for v in slowest]
    parts = ["## Slowest claims", _table(rows, ["ID", "time (s)", "trials"])]
    if sets:
        parts += ["Trial sets that several claims read are trained (or read from the store) once, "
                  "by the first claim that asks, and their time is not in any claim's time. A "
                  "run that only reads a set back keeps the record of the run that trained it:",
                  _table([[t.name, f"{t.seconds:.1f}", str(t.experiments), str(t.trials),
                           DASH if t.trained is None else str(t.trained), t.recorded_at]
                          for t in sets],
                         ["trial set", "time (s)", "experiments", "trials", "trained",
                          "recorded"])]
    return parts


OLDER_VERDICT = "not recorded (verdict files older than this record)"
NO_TRIALS = "no stored trials read"  # hand-built networks, toy models


def _trained_with(verdicts: list[Verdict]) -> str:
    """The provenance row of what trained the claims' trials: each set of framework versions
    and device with its number of claims, named unless they are most of them. Trials are keyed
    without versions, so a reused store can hold other ones than the run's own."""
    claims: dict[str, list[str]] = {}
    for v in verdicts:
        labels = ([OLDER_VERDICT] if v.trained_with is None
                  else list(v.trained_with) or [NO_TRIALS])
        for label in labels:
            claims.setdefault(label, []).append(v.claim_id)
    ranked = sorted(claims.items(),
                    key=lambda item: (item[0] in (OLDER_VERDICT, NO_TRIALS), -len(item[1])))
    return "; ".join(
        f"{label} ({len(ids)} claim{'s' * (len(ids) != 1)}"
        + (f": {', '.join(ids)})" if 2 * len(ids) <= len(verdicts) else ")")
        for label, ids in ranked
    ) or DASH


def _claim_section(verdict: Verdict, fresh_ids: set[str]) -> list[str]:
    """One claim's section: statement, source, verdict, test, design, tables, figures."""
    v = verdict
    claim = _claim(v.claim_id)
    parts = [f"## {v.claim_id}"]
    if claim:
        parts.append(f"**Claim:** {claim.statement}\n\n**Source:** {claim.source}")
        if claim.quote:
            parts.append("\n".join(f"> {line}" for line in claim.quote.splitlines()))
    expected = _expected(v)
    details = [f"expected: {expected or DASH}", f"profile {v.profile or DASH}",
               f"seed base {v.seed_base}", f"{v.trials} trials", f"{v.seconds:.1f} s"]
    if v.recorded_at:
        details.append(f"recorded {v.recorded_at}")
    parts.append(f"**Verdict: {v.verdict}**{_stored_note(v, fresh_ids)} ({'; '.join(details)})")
    if v.summary:
        parts.append(v.summary)
    lines = []
    if v.test or v.p_value is not None:
        lines.append(f"**Test:** {v.test or DASH}; p-value {_p_value(v.p_value)}")
    if v.threshold:
        lines.append(f"**Threshold:** {v.threshold}")
    if v.design or v.false_failure is not None:
        chance = "" if v.false_failure is None else f" (false-failure chance {v.false_failure:.3g})"
        lines.append(f"**Design:** {v.design or DASH}{chance}")
    if lines:
        parts.append("  \n".join(lines))
    if v.protocol:
        parts += ["**Protocol**", _dict_table(v.protocol)]
    if v.table:
        parts += ["**Results**", _dict_table(v.table)]
    if v.estimates:
        parts += ["**Estimates**", "\n".join(f"- {e}" for e in v.estimates)]
    if v.notes:
        parts.append(v.notes)
    parts += [f"![{v.claim_id}]({figure})" for figure in v.figures]
    if v.experiments:
        parts.append("Experiments: " + ", ".join(f"`{key}`" for key in v.experiments))
    if v.trained_with:
        parts.append("Trials trained with: " + "; ".join(
            f"{label} ({count} trials)" for label, count in v.trained_with.items()))
    return parts


def render_report(
    verdicts: list[Verdict], provenance: dict[str, str], fresh_ids: set[str], report_dir: Path,
    runs: dict[str, list[Verdict]] | None = None, sets: Sequence[SetTiming] = (),
) -> str:
    """The whole markdown report; deterministic for given inputs (rows in catalogue order).

    `report_dir` is where the report lives; figure paths in verdicts are already relative to it.
    """
    del report_dir  # figure paths are stored relative to the report; kept for the interface
    ordered = _ordered(verdicts)
    provenance_rows = [[str(key), str(value)] for key, value in provenance.items()]
    provenance_rows.append(["trials trained with", _trained_with(ordered)])
    parts = ["# lifetf report", INTRO, _table(provenance_rows, ["provenance", "value"])]
    parts += _summary_section(ordered, fresh_ids)
    parts += _runs_section(runs or {})
    if ordered:
        parts += _slowest_section(ordered, sets=sets)
    for verdict in ordered:
        parts += _claim_section(verdict, fresh_ids)
    return "\n\n".join(parts) + "\n"


def write_report(
    verdicts: list[Verdict], provenance: dict[str, str], fresh_ids: set[str], path: Path,
    runs: dict[str, list[Verdict]] | None = None, sets: Sequence[SetTiming] = (),
) -> Path:
    """Render the report and write it atomically (temp file in the same directory, os.replace);
    ``sets`` are the run's trial-set timings (``lifetf.suite.trialsets.SetTiming``)."""
    text = render_report(verdicts, provenance, fresh_ids, Path(path).parent, runs, sets)
    return atomic_write_text(path, text)
