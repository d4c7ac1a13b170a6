"""The trend of conformance per audit name across batch runs: a table and a chart."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sopaudit.report.charts import figure_svg, new_figure
from sopaudit.report.i18n import translator


def trend_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per batch run (its time), one column per audit name: the case conformance rate
    (of finished cases); empty where the audit failed or was not in that run."""
    if runs.empty:
        return pd.DataFrame()
    batches = runs.groupby("batch_id", sort=False)["run_at"].first()  # runs come oldest first
    done = runs[runs["status"].isin(["ok", "skipped"])]
    table = done.pivot_table(index="batch_id", columns="name", values="case_conformance_rate", aggfunc="last")
    table = table.reindex(index=batches.index, columns=sorted(runs["name"].unique()))
    table.index = pd.Index(batches.to_numpy(), name="run_at")  # two runs in one second stay two rows
    table.columns.name = "name"
    return table


def trend_figure(table: pd.DataFrame, lang: str = "en"):
    t = translator(lang)
    fig = new_figure(7.5, 3.6)
    ax = fig.add_subplot()
    x = pd.to_datetime(table.index, utc=True)
    for name in table.columns:
        s = table[name]
        if s.isna().all():  # never completed: nothing to draw, no legend entry
            continue
        ax.plot(x[s.notna().to_numpy()], s.dropna().to_numpy() * 100, marker="o", label=str(name))
    ax.set_ylabel(t("batch.trend_axis") + " (%)")
    ax.set_ylim(0, 100)
    ax.set_title(t("batch.trend"))
    ax.grid(True, alpha=0.3)
    if len(table.columns) <= 20:
        ax.legend(fontsize=7, loc="lower left")
    fig.autofmt_xdate()
    return fig


def trend_svg(table: pd.DataFrame, lang: str = "en") -> str | None:
    """The chart as inline SVG, or None when there is nothing to draw."""
    if table.empty or table.notna().sum().sum() == 0:
        return None
    return figure_svg(trend_figure(table, lang))


def write_trend_chart(table: pd.DataFrame, path: str | Path, lang: str = "en") -> Path | None:
    """Write the chart as PNG or SVG (by the file's suffix); None when there is nothing to draw."""
    if table.empty or table.notna().sum().sum() == 0:
        return None
    path = Path(path)
    fig = trend_figure(table, lang)
    fig.savefig(path, format="svg" if path.suffix.lower() == ".svg" else "png", dpi=120,
                metadata={"Date": None} if path.suffix.lower() == ".svg" else None)
    return path
