"""Charts for the operations page that still say something when all the data sits in one time bucket.

Line charts draw nothing for a single point, and Vega's default number format turns a flat zero axis
into "0.000000". Here every time series is grouped bars on a categorical time axis (one bucket is one
visible group), and every axis has an explicit format.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

COUNT, RATE, MS, DECIMAL = ",d", ".0%", ",.0f", ",.1~f"


def bars_over_time(df: pd.DataFrame, y_title: str, fmt: str, series_title: str = "") -> alt.Chart:
    """`df`: rows = time buckets (a DatetimeIndex), columns = series. Grouped bars, one group per bucket."""
    long = df.copy()
    long.index = pd.DatetimeIndex(long.index).strftime("%d %b %H:%M")
    long = long.rename_axis("Time").reset_index().melt(id_vars="Time", var_name="Series", value_name="Value")
    long["Value"] = pd.to_numeric(long["Value"], errors="coerce").fillna(0)
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("Time:O", title=None, sort=None, axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("Series:N"),
        y=alt.Y("Value:Q", title=y_title, axis=alt.Axis(format=fmt, tickMinStep=1 if fmt == COUNT else alt.Undefined)),
        color=alt.Color("Series:N", title=series_title or None, legend=alt.Legend(orient="bottom")),
        tooltip=["Time", "Series", alt.Tooltip("Value:Q", format=fmt)],
    ).properties(height=260)


def bars(series: pd.Series, y_title: str, fmt: str = COUNT) -> alt.Chart:
    """One bar per category, in the series' own order (e.g. age bands)."""
    df = pd.DataFrame({"Category": [str(i) for i in series.index], "Value": series.to_numpy()})
    return alt.Chart(df).mark_bar().encode(
        x=alt.X("Category:N", title=None, sort=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("Value:Q", title=y_title, axis=alt.Axis(format=fmt, tickMinStep=1 if fmt == COUNT else alt.Undefined)),
        tooltip=["Category", alt.Tooltip("Value:Q", format=fmt)],
    ).properties(height=220)
