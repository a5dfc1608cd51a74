"""Report figures: success rates with Wilson intervals, curves, bars and histograms (PNG, Agg).

Every function builds one figure, writes it atomically and returns the path, so a report never
links a half-written image.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from lifetf.stats import proportion_interval  # noqa: E402
from lifetf.suite.io import atomic_write_bytes  # noqa: E402

__all__ = [
    "save_figure",
    "plot_rates",
    "plot_curves",
    "plot_bars",
    "plot_estimates",
    "plot_histograms",
    "plot_curve_and_points",
    "plot_scatter",
    "plot_walks",
]

_FIGSIZE = (6.4, 4.2)


def save_figure(fig: Figure, path: Path) -> Path:
    """Write `fig` as a PNG atomically, then close it: readers (the report, a browser) see
    either the old image or the new one, never half."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=120)
    finally:
        plt.close(fig)
    return atomic_write_bytes(path, buffer.getvalue())


def _new_axes(title: str, xlabel: str, ylabel: str) -> tuple[Figure, Axes]:
    """A fresh figure (outside pyplot's global registry) with one titled, labelled, gridded axes."""
    fig = Figure(figsize=_FIGSIZE, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    return fig, ax


def _legend(ax: Axes) -> None:
    """Draw a legend only when something is labelled (avoids matplotlib's empty-legend warning)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")


def plot_rates(
    series: dict[str, list[tuple[float, int, int]]],
    xlabel: str,
    title: str,
    path: Path,
    logx: bool = False,
    reference: dict[str, list[tuple[float, float]]] | None = None,
) -> Path:
    """Plot success proportions (x, successes, trials) per series with 95% Wilson error bars.

    Optional `reference` points (published values) are drawn as hollow markers in the colour of
    the series of the same name; points with zero trials have no rate and are skipped.
    """
    fig, ax = _new_axes(title, xlabel, "success rate")
    colours: dict[str, str] = {}
    for i, (label, points) in enumerate(series.items()):
        colour = f"C{i % 10}"
        colours[label] = colour
        points = sorted((float(x), s, n) for x, s, n in points if n > 0)
        if not points:
            continue
        xs = [x for x, _, _ in points]
        ivs = [proportion_interval(s, n, 0.95, "wilson") for _, s, n in points]
        est = np.array([iv.estimate for iv in ivs])
        yerr = np.array([est - [iv.low for iv in ivs], [iv.high for iv in ivs] - est])
        ax.errorbar(xs, est, yerr=np.clip(yerr, 0.0, None), marker="o", capsize=3,
                    color=colour, label=label)
    for j, (name, points) in enumerate((reference or {}).items()):
        colour = colours.get(name, f"C{(len(series) + j) % 10}")
        points = sorted((float(x), float(y)) for x, y in points)
        ax.plot([x for x, _ in points], [y for _, y in points], linestyle="none", marker="s",
                markersize=8, markerfacecolor="none", markeredgecolor=colour,
                label=f"{name} (published)")
    ax.set_ylim(-0.02, 1.02)
    if logx:
        ax.set_xscale("log")
    _legend(ax)
    return save_figure(fig, path)


def plot_curves(
    curves: dict[str, np.ndarray],
    xlabel: str,
    ylabel: str,
    title: str,
    path: Path,
    logy: bool = False,
    x: np.ndarray | None = None,
) -> Path:
    """Draw each (runs, points) array as thin lines, one colour per label, labelled once.

    Used for loss curves of failed vs successful runs and for loss along straight walks.
    """
    fig, ax = _new_axes(title, xlabel, ylabel)
    for i, (label, values) in enumerate(curves.items()):
        runs = np.atleast_2d(np.asarray(values, dtype=float))
        if runs.size == 0:
            continue
        xs = np.arange(runs.shape[1]) if x is None else np.asarray(x)
        lines = ax.plot(xs, runs.T, color=f"C{i % 10}", linewidth=0.8, alpha=0.6)
        lines[0].set_label(f"{label} ({runs.shape[0]} runs)")
    if logy:
        ax.set_yscale("log")
    _legend(ax)
    return save_figure(fig, path)


def plot_bars(
    values: dict[str, float],
    ylabel: str,
    title: str,
    path: Path,
    errors: dict[str, tuple[float, float]] | None = None,
) -> Path:
    """Simple bar chart; `errors` maps a label to its interval (low, high) in data units.

    Bars without an entry in `errors` get no error bar.
    """
    fig, ax = _new_axes(title, "", ylabel)
    labels = list(values)
    heights = np.array([float(values[k]) for k in labels])
    yerr = None
    if errors:
        bounds = [errors.get(k, (h, h)) for k, h in zip(labels, heights, strict=True)]
        yerr = np.clip(
            np.array([heights - [lo for lo, _ in bounds], [hi for _, hi in bounds] - heights]),
            0.0,
            None,
        )
    ax.bar(range(len(labels)), heights, yerr=yerr, capsize=4,
           color=[f"C{i % 10}" for i in range(len(labels))])
    ax.set_xticks(range(len(labels)), labels, rotation=20 if len(labels) > 4 else 0)
    return save_figure(fig, path)


def plot_estimates(estimates: dict, ylabel: str, title: str, path: Path) -> Path:
    """Bars of Estimates (label -> Estimate) with their intervals where they have them."""
    return plot_bars({k: e.value for k, e in estimates.items()}, ylabel, title, path,
                     errors={k: (e.low, e.high) for k, e in estimates.items()
                             if e.low is not None})


def plot_histograms(
    samples: dict[str, np.ndarray], xlabel: str, title: str, path: Path, bins: int = 20
) -> Path:
    """Overlaid step histograms (density) on shared bin edges, e.g. output-confidence values."""
    fig, ax = _new_axes(title, xlabel, "density")
    arrays = {k: np.ravel(np.asarray(v, dtype=float)) for k, v in samples.items()}
    arrays = {k: v[np.isfinite(v)] for k, v in arrays.items()}
    pooled = np.concatenate([*arrays.values(), np.empty(0)])
    if pooled.size:
        edges = np.histogram_bin_edges(pooled, bins=bins)
        for i, (label, data) in enumerate(arrays.items()):
            if data.size:
                ax.hist(data, bins=edges, density=True, histtype="step", linewidth=1.5,
                        color=f"C{i % 10}", label=label)
    _legend(ax)
    return save_figure(fig, path)


def plot_curve_and_points(
    x: np.ndarray,
    curve: np.ndarray,
    curve_label: str,
    points: dict[str, tuple[np.ndarray, np.ndarray]],
    xlabel: str,
    ylabel: str,
    title: str,
    path: Path,
) -> Path:
    """A reference curve with scattered measurements beside it (a baseline and trained runs)."""
    fig, ax = _new_axes(title, xlabel, ylabel)
    ax.plot(x, curve, color="black", linewidth=1.5, label=curve_label)
    for label, (xs, ys) in points.items():
        ax.scatter(xs, ys, s=18, alpha=0.6, label=label)
    ax.set_ylim(-0.02, 1.02)
    _legend(ax)
    return save_figure(fig, path)


def plot_scatter(
    points: dict[str, tuple[np.ndarray, np.ndarray]],
    xlabel: str,
    ylabel: str,
    title: str,
    path: Path,
    logx: bool = False,
    logy: bool = False,
) -> Path:
    """Scattered (x, y) points, one colour per label (e.g. runs: training loss vs test error)."""
    fig, ax = _new_axes(title, xlabel, ylabel)
    for i, (label, (xs, ys)) in enumerate(points.items()):
        if len(xs):
            ax.scatter(xs, ys, s=18, alpha=0.7, color=f"C{i % 10}",
                       label=f"{label} ({len(xs)})")
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    _legend(ax)
    return save_figure(fig, path)


def plot_walks(
    walks: dict[str, list[tuple[np.ndarray, np.ndarray]]],
    xlabel: str,
    ylabel: str,
    title: str,
    path: Path,
    logy: bool = True,
) -> Path:
    """Curves with their own x values (walks: loss against distance), one colour per label."""
    fig, ax = _new_axes(title, xlabel, ylabel)
    for i, (label, curves) in enumerate(walks.items()):
        for j, (xs, ys) in enumerate(curves):
            ax.plot(xs, ys, color=f"C{i % 10}", linewidth=0.8, alpha=0.6,
                    label=f"{label} ({len(curves)} walks)" if j == 0 else None)
    if logy:
        ax.set_yscale("log")
    _legend(ax)
    return save_figure(fig, path)
