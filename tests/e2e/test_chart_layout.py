"""Every chart of artdash.ui.charts drawn by plotly.js in Chromium, at the width of half a page at
1024 px and of a full page at 1920 px: no legend covers an axis title or tick label, and no
title runs off the figure. (The persona chart's legend sat on its axis title at 1024 px.)"""

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import Page

from artdash.ui import charts

pytestmark = pytest.mark.e2e

LABELS = {1: "#1 Couple at dusk on the harbour wall", 2: "#2 Lighthouse in the storm", 3: "#3 Close-up of Ava Marlowe",
          4: "#4 Family group at the table"}

OVERLAPS = """() => {
  const box = e => { const r = e.getBoundingClientRect(); return r.width && r.height ? r : null; };
  const hit = (a, b) => a && b && a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const plot = document.querySelector('.js-plotly-plot'); const figure = box(plot); const found = [];
  const legend = plot.querySelector('.legend'); const lb = legend && box(legend);
  const parts = [...plot.querySelectorAll('.xtitle, .ytitle, .y2title, .xtick text, .ytick text, .y2tick text, .gtitle')];
  if (lb) parts.forEach(p => { if (hit(lb, box(p))) found.push('legend covers ' + p.getAttribute('class') + ' "' + p.textContent + '"'); });
  plot.querySelectorAll('.gtitle, .legendtext').forEach(t => { const tb = box(t);
    if (tb && (tb.right > figure.right + 1 || tb.left < figure.left - 1 || tb.top < figure.top - 1)) found.push('cut: ' + t.textContent); });
  return found;
}"""


def _days(n=30):
    return pd.date_range("2026-11-01", periods=n, freq="D")


def _figures():
    rng = np.random.default_rng(3)
    bands = pd.DataFrame([{"variant_id": v, "date": d, "rate": r, "low": r - 0.02, "high": r + 0.02,
                           "cum rate": r, "cum low": r - 0.01, "cum high": r + 0.01}
                          for v in LABELS for d in _days() for r in [0.1 + 0.02 * v + rng.normal(0, 0.01)]])
    segments = pd.DataFrame([{"variant_id": v, "segment": s, "rate": 0.2, "low": 0.15, "high": 0.25}
                             for v in LABELS for s in ("mobile", "tablet", "tv", "web")])
    insights = pd.DataFrame({"tag": [f"visual: tag {i}" for i in range(8)], "quality take rate": np.linspace(0.1, 0.3, 8),
                             "low": np.linspace(0.08, 0.28, 8), "high": np.linspace(0.12, 0.32, 8)})
    curves = pd.DataFrame([{"policy": p, "impressions": i, "take rate": 0.2 + i / 1e6}
                           for p in ("uniform", "editors-pick", "best-single", "linucb") for i in range(0, 20001, 2000)])
    estimates = pd.DataFrame({"label": ["Uniform random", "LinUCB (contextual bandit)", "Editor's pick"],
                              "v": [0.2, 0.3, 0.25], "lo": [0.18, 0.27, 0.22], "hi": [0.22, 0.33, 0.28],
                              "truth": [0.21, 0.29, 0.26]})
    runs = pd.DataFrame([{"run": f"#{r} lab run of 2026-11-0{r}", "label": lbl, "quality take rate": 0.2,
                          "quality high": 0.22, "quality low": 0.18} for r in (1, 2) for lbl in ("Uniform", "LinUCB")])
    at = pd.date_range("2026-11-01", periods=48, freq="h")
    per_bucket = pd.DataFrame({"at": at, "decisions per second": rng.uniform(5, 20, 48), "decisions": 1000,
                               "outcomes": 800})
    by_version = pd.DataFrame([{"at": t, "policy": "linucb", "version": v, "decisions": 500}
                               for t in at for v in (1, 2)])
    change = pd.DataFrame({"change rate": np.linspace(0, 1, 11), "members": rng.integers(1, 100, 11)})
    durations = pd.DataFrame([{"variant": LABELS[v], "quantile": q, "seconds": 600 * q * v, "low": 500 * q * v,
                               "high": 700 * q * v} for v in LABELS for q in (0.25, 0.5, 0.9)])
    profile = pd.DataFrame([{"tag": f"{f}: {t}", "facet": f, "affinity": a} for f, t, a in
                            [("genre", "romance", 0.9), ("tone", "heartwarming", 0.6), ("visual", "couple", 0.8),
                             ("genre", "horror", -0.7), ("theme", "love", 0.5)]])
    at = pd.Timestamp("2027-03-01", tz="UTC")
    calibration = pd.DataFrame([
        {"promotion": 2, "policy": "Editor's pick", "promoted at": at, "source": source, "estimate": v,
         "estimate low": v - 0.01, "estimate high": v + 0.01, "realised rate": 0.15, "realised low": 0.14,
         "realised high": 0.16} for source, v in (("lab (simulated)", 0.2), ("offline (on a log)", 0.16),
                                                   ("shadow (live traffic)", 0.15))]
        + [{"promotion": 1, "policy": "Uniform random", "promoted at": at, "source": "no estimate recorded",
            "estimate": None, "estimate low": None, "estimate high": None, "realised rate": 0.12,
            "realised low": 0.11, "realised high": 0.13}])
    matrix = pd.DataFrame({"persona": ["Romance lover", "Thriller & crime buff", "Family & kids"],
                           **{f"#{i} variant {i}": rng.random(3) for i in range(1, 7)}})
    label = LABELS.__getitem__
    return {
        "calibration history": charts.calibration_history(calibration),
        "win matrix": charts.win_matrix(matrix, [c for c in matrix.columns if c.startswith("#")], "Win matrix"),
        "take rate over time": charts.take_rate_over_time(bands, label, 0.95, cumulative=False),
        "take rate by segment": charts.take_rate_by_segment(segments, label, "device"),
        "take rate by tag": charts.take_rate_by_tag(insights),
        "learning curves": charts.learning_curves(curves, "take rate", "Take rate as the policies learn", True, {}),
        "estimates": charts.estimates_with_intervals(estimates, "v", "lo", "hi", "Offline estimates", truth="truth"),
        "runs side by side": charts.runs_side_by_side(runs),
        "live decisions": charts.live_decisions(per_bucket, 3600),
        "versions over time": charts.versions_over_time(by_version, 3600),
        "change rate": charts.change_rate_distribution(change),
        "play durations": charts.play_duration_quantiles(durations, 0.95),
        "taste profile": charts.taste_profile(profile),
    }


@pytest.mark.parametrize("width", [420, 1500])
def test_no_legend_covers_an_axis_and_no_title_is_cut(page: Page, tmp_path, width):
    import plotly.io as pio

    problems = {}
    page.set_viewport_size({"width": width + 40, "height": 900})
    for name, figure in _figures().items():
        html = tmp_path / f"{name.replace(' ', '-')}.html"
        figure.update_layout(width=width, template="plotly_dark")
        html.write_text(pio.to_html(figure, include_plotlyjs=True, full_html=True))
        page.goto(html.as_uri())
        page.wait_for_selector(".js-plotly-plot .main-svg")
        found = page.evaluate(OVERLAPS)
        if found:
            problems[name] = found
    assert not problems, problems
