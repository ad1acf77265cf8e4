"""Self-contained ``report.html``: summary, per-column scores and real-against-synthetic plots.

Every user-supplied string (file name, column names, category values, notes) passes through
``html.escape``. Plots are PNG images embedded as data URIs, so the page needs no other file.
Figures are drawn through matplotlib's object API, not ``pyplot``, because ``pyplot`` keeps
global state that is unsafe when several reports render in one process.
"""

from __future__ import annotations

import base64
import io
from html import escape
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Plots beyond this count are left out of the page to keep it small; scores stay complete.
MAX_PLOTS = 40
MAX_CATEGORIES_PLOTTED = 12
REAL_COLOUR = "#1f77b4"
SYNTHETIC_COLOUR = "#ff7f0e"

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1, h2 { font-weight: 600; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.withheld { background: #fde2e1; border: 1px solid #d33; padding: 0.8em; }
.published { background: #e3f4e1; border: 1px solid #3a3; padding: 0.8em; }
.plots { display: flex; flex-wrap: wrap; gap: 1em; }
.plots figure { margin: 0; }
figcaption { font-size: 0.9em; }
"""


def _format_number(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, (int, np.integer)):
        return str(value)
    if isinstance(value, (float, np.floating)):
        return f"{value:.{digits}f}"
    return escape(str(value))


def _figure_to_data_uri(figure: Figure) -> str:
    canvas = FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    canvas.print_png(buffer)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _ecdf_plot(name: str, real: pd.Series, synthetic: pd.Series) -> str:
    figure = Figure(figsize=(4.2, 2.8), dpi=90)
    axes = figure.add_subplot()
    for values, label, colour in (
        (real, "real", REAL_COLOUR),
        (synthetic, "synthetic", SYNTHETIC_COLOUR),
    ):
        numbers = np.sort(_as_numbers(values))
        if len(numbers):
            steps = np.arange(1, len(numbers) + 1) / len(numbers)
            axes.step(numbers, steps, where="post", label=label, color=colour)
    axes.set_title(name, fontsize=9)
    axes.set_ylabel("cumulative share", fontsize=8)
    axes.tick_params(labelsize=7)
    axes.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    return _figure_to_data_uri(figure)


def _bar_plot(name: str, real: pd.Series, synthetic: pd.Series) -> str:
    real_share = real.astype("string").value_counts(normalize=True, dropna=False)
    synthetic_share = synthetic.astype("string").value_counts(normalize=True, dropna=False)
    categories = list(real_share.index[:MAX_CATEGORIES_PLOTTED])
    labels = ["(missing)" if pd.isna(category) else str(category)[:14] for category in categories]
    positions = np.arange(len(categories))

    figure = Figure(figsize=(4.2, 2.8), dpi=90)
    axes = figure.add_subplot()
    axes.bar(
        positions - 0.2,
        [real_share.get(c, 0.0) for c in categories],
        0.4,
        label="real",
        color=REAL_COLOUR,
    )
    axes.bar(
        positions + 0.2,
        [synthetic_share.get(c, 0.0) for c in categories],
        0.4,
        label="synthetic",
        color=SYNTHETIC_COLOUR,
    )
    axes.set_xticks(positions, labels, rotation=30, ha="right", fontsize=7)
    axes.set_title(name, fontsize=9)
    axes.set_ylabel("share of rows", fontsize=8)
    axes.tick_params(axis="y", labelsize=7)
    axes.legend(fontsize=7, loc="upper right")
    figure.tight_layout()
    return _figure_to_data_uri(figure)


def _as_numbers(values: pd.Series) -> np.ndarray:
    values = values.dropna()
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("int64").to_numpy(dtype=float)
    return pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)


def _summary_rows(summary: dict[str, Any]) -> str:
    labels = [
        ("ks_mean_complement", "Mean KS complement (1 − D), synthetic against all real rows"),
        ("holdout_ks_mean_complement", "Mean KS complement, model fitted on half, unseen half"),
        ("baseline_ks_mean_complement", "Real-against-real baseline (half against half)"),
        ("tv_mean_complement", "Mean TV complement of categorical columns"),
        ("correlation_similarity", "Correlation similarity"),
        ("dcr_holdout_share", "DCR holdout share (about 0.5 means no memorisation)"),
        ("exact_copies_removed", "Exact copies of real rows removed"),
        ("exact_copies_replaced", "Removed copies replaced by fresh rows that are no copies"),
        ("real_rows", "Real rows"),
        ("synthetic_rows", "Synthetic rows published"),
    ]
    return "".join(
        f"<tr><th>{escape(label)}</th>"
        f"<td class='number'>{_format_number(summary.get(key))}</td></tr>"
        for key, label in labels
    )


def _column_rows(columns: list[dict[str, Any]]) -> str:
    rows = []
    for column in columns:
        rows.append(
            "<tr>"
            f"<td>{escape(str(column['column']))}</td>"
            f"<td>{escape(str(column.get('kind', '')))}</td>"
            f"<td>{escape(str(column.get('metric', '')))}</td>"
            f"<td class='number'>{_format_number(column.get('statistic'))}</td>"
            f"<td class='number'>{_format_number(column.get('p_value'), 4)}</td>"
            f"<td class='number'>{_format_number(column.get('score'))}</td>"
            f"<td class='number'>{_format_number(column.get('real_missing_rate'))}</td>"
            f"<td class='number'>{_format_number(column.get('synthetic_missing_rate'))}</td>"
            "</tr>"
        )
    return "".join(rows)


def _plots(report: dict[str, Any], real: pd.DataFrame, synthetic: pd.DataFrame) -> str:
    figures = []
    for column in report["fidelity"].get("columns", [])[:MAX_PLOTS]:
        name = column["column"]
        if name not in real.columns or name not in synthetic.columns:
            continue
        if column.get("metric") == "ks":
            uri = _ecdf_plot(name, real[name], synthetic[name])
        else:
            uri = _bar_plot(name, real[name], synthetic[name])
        metric = str(column.get("metric", "")).upper()
        caption = f"{name}: {metric} score {_format_number(column.get('score'))}"
        figures.append(
            f"<figure><img src='{uri}' alt='{escape(name, quote=True)}'>"
            f"<figcaption>{escape(caption)}</figcaption></figure>"
        )
    return "<div class='plots'>" + "".join(figures) + "</div>"


def render_html(report: dict[str, Any], real: pd.DataFrame, synthetic: pd.DataFrame) -> str:
    """Render ``report.html`` from the report document and the two tables.

    Args:
        report: output of ``report.build_report``.
        real: the real (prepared) table.
        synthetic: the synthetic table that was scored, before the privacy gate.
    """
    summary = report["summary"]
    gate = report["privacy"]["gate"]
    status_class = "published" if summary["published"] else "withheld"
    status_text = (
        "The synthetic table is published."
        if summary["published"]
        else "The synthetic table is withheld."
    )
    source = report["input"]
    not_evaluated = "".join(
        f"<li>{escape(item['column'])}: {escape(item['reason'])}</li>"
        for item in report.get("not_evaluated", [])
    )
    notes = "".join(f"<li>{escape(str(note))}</li>" for note in report.get("notes", []))
    model = report["model"]
    candidates = model.get("details", {}).get("candidates") or []
    candidate_rows = "".join(
        "<tr>"
        f"<td>{escape(str(candidate.get('model', candidate.get('name', ''))))}</td>"
        f"<td class='number'>{_format_number(candidate.get('ks_mean_complement'))}</td>"
        f"<td class='number'>{_format_number(candidate.get('tv_mean_complement'))}</td>"
        f"<td class='number'>{_format_number(candidate.get('dcr_holdout_share'))}</td>"
        "</tr>"
        for candidate in candidates
        if isinstance(candidate, dict)
    )
    candidate_table = (
        "<h2>Candidate models (scored on an unseen split)</h2><table><tr><th>model</th>"
        "<th>KS complement</th><th>TV complement</th><th>DCR holdout share</th></tr>"
        f"{candidate_rows}</table>"
        if candidate_rows
        else ""
    )

    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>synthcare report: {escape(str(source.get("name", "")))}</title>
<style>{_STYLE}</style></head>
<body>
<h1>synthcare report: {escape(str(source.get("name", "")))}</h1>
<p class="{status_class}">{escape(status_text)} {escape(str(gate["reason"]))}.</p>
<h2>Summary</h2>
<table>{_summary_rows(summary)}</table>
<p>Model: {escape(str(model["name"]))}, fitted in {_format_number(model.get("fit_seconds"), 1)} s.
Input: {escape(str(source.get("name", "")))}, {source.get("rows")} rows, {source.get("columns")}
columns, SHA-256 {escape(str(source.get("sha256", "")))}.</p>
{candidate_table}
<h2>Per-column fidelity</h2>
<p>KS: two-sample Kolmogorov–Smirnov statistic D and its p-value; score = 1 − D.
TV: total variation distance of category frequencies; score = 1 − TV.</p>
<table><tr><th>column</th><th>kind</th><th>metric</th><th>statistic</th><th>p-value</th>
<th>score</th><th>real missing</th><th>synthetic missing</th></tr>
{_column_rows(report["fidelity"].get("columns", []))}</table>
<h2>Columns not evaluated</h2><ul>{not_evaluated or "<li>none</li>"}</ul>
<h2>Real against synthetic distributions</h2>
{_plots(report, real, synthetic)}
<h2>Notes</h2><ul>{notes or "<li>none</li>"}</ul>
</body></html>
"""
