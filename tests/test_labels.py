"""Every Streamlit call that renders a label (or options, or a body) as Markdown gets typed
text only through the one text helper (:func:`artdash.ui.text.md`): a static walk over
``app.py``, ``screens/`` and ``artdash/ui/`` — a new call that pastes a name in raw fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted([ROOT / "app.py", *(ROOT / "screens").glob("*.py"), *(ROOT / "artdash" / "ui").glob("*.py")])

# st.<call>: the positional index and keyword name of the text Streamlit renders as Markdown.
LABELLED = {name: (0, "label") for name in (
    "button", "checkbox", "toggle", "radio", "selectbox", "multiselect", "slider", "select_slider", "text_input",
    "number_input", "text_area", "date_input", "time_input", "file_uploader", "color_picker", "download_button",
    "link_button", "form_submit_button", "segmented_control", "pills", "expander", "popover", "metric",
    "camera_input", "feedback")}
LABELLED |= {name: (0, "body") for name in (
    "markdown", "caption", "info", "warning", "error", "success", "toast", "header", "subheader", "title")}
LABELLED["page_link"] = (1, "label")
LABELLED["page"] = (0, "title")                # widgets.page(title, caption): both rendered as Markdown
# Calls whose options are rendered as Markdown (the format_func's result is checked too).
MARKDOWN_OPTIONS = {"radio", "segmented_control", "pills"}
# Names that hold numbers or the code's own words, never typed text: ids and counts
# (v.id, n_draft, title_id, width), and constants (ROLE_HELP, lab.POLICY_LABELS[k]).
NUMERIC = re.compile(r"^(id|\w+_id|n|n_\w+|i|width|height|version|page_no|\w+_count|count|seconds|minutes|ratio)$")
CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]+$")
SAFE_MODULES = {"numbers"}                 # artdash.ui.numbers: every function formats a number
SAFE_METHODS = {"lower", "upper", "capitalize"}
SAFE_CALLS = {"md", "md_list", "len", "int", "round", "sum", "min", "max", "count", "pct", "share", "level",
              "format_count", "format_rate", "format_interval", "timecode", "seconds_text"}


# Text that is Markdown on purpose, built from escaped parts — each looked at, with why it is safe.
REVIEWED = {
    ("artdash/ui/gallery.py", "star"): "' :material/star:' or nothing",
    ("artdash/ui/upload_report.py", "'  \\n'.join(lines)"): "each line is built with md() just above",
    ("artdash/ui/widgets.py", "title"): "page(title): every caller's title is checked by this walk (LABELLED['page'])",
    ("artdash/ui/widgets.py", "caption"): "page(…, caption): checked at every caller, as the title",
    ("artdash/ui/widgets.py", "spans"): "HTML whose every value went through html.escape; never Markdown",
    ("screens/preview.py", "strongest"): "built with md() on the line above",
    ("screens/preview.py", "describe(version)"): "the policy's built-in label, its version number and a date",
    ("screens/preview.py", "describe(served_version)"): "as describe(version)",
    ("screens/preview.py", "when"): "built with md() where it is made (a member's id or persona's name)",
    ("screens/preview.py", "who"): "md(member.id) or md(persona.name)",
    ("artdash/ui/calibration_view.py", "covered"): "built with md() on the line above, numbers otherwise",
    ("artdash/ui/discover_view.py", "sizes"): "built with md() on the line above (ratios and pixel sizes)",
    ("artdash/ui/discover_view.py", "mark"): "an icon and **viewing**, or nothing",
    ("artdash/ui/discover_view.py", "state_mark"): ":green[picked] / :red[rejected], or nothing",
    ("artdash/ui/results_review.py", "planned"): "the code's words around md(plan.describe())",
    ("screens/results.py", "review.method"): "the name of one of three built-in methods",
    ("artdash/ui/gallery.py", "label"): "'Undo: back to <status>' or 'Undo the tag change': the code's words",
    ("artdash/ui/gallery.py", "verbs[target]"): "Activate / Reactivate / Retire",
    ("artdash/ui/compare_view.py", "name"): "a slot's name from SLOT_RATIOS (the code's)",
    ("artdash/ui/live_view.py", "result.label"): "a built-in policy's label from the registry",
}
_reviewed: set[str] = set()


def _callee(node: ast.Call) -> str | None:
    """'radio' for st.radio(…), c1.radio(…), st.sidebar.radio(…) — any receiver."""
    return node.func.attr if isinstance(node.func, ast.Attribute) else None


def safe(node: ast.AST | None) -> bool:
    """Whether the expression can only be constant text, escaped text or numbers."""
    if node is None or isinstance(node, ast.Constant) or ast.unparse(node) in _reviewed:
        return True
    if isinstance(node, ast.JoinedStr):
        return all(safe(v) for v in node.values)
    if isinstance(node, ast.FormattedValue):
        return node.format_spec is not None or safe(node.value)
    if isinstance(node, ast.BinOp):
        return safe(node.left) and safe(node.right)
    if isinstance(node, ast.IfExp):
        return safe(node.body) and safe(node.orelse)
    if isinstance(node, ast.BoolOp):
        return all(safe(v) for v in node.values)
    if isinstance(node, ast.Call):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if isinstance(node.func, ast.Attribute):
            receiver = node.func.value
            if name == "join":
                return safe(receiver) and all(safe_generated(a) for a in node.args)
            if isinstance(receiver, ast.Name) and receiver.id in SAFE_MODULES:
                return True
            if name in SAFE_METHODS:
                return safe(receiver)
        return name in SAFE_CALLS
    if isinstance(node, ast.Subscript):
        return safe_name(node.value)
    if isinstance(node, ast.Name | ast.Attribute):
        return safe_name(node)
    if isinstance(node, ast.Lambda):
        return safe(node.body)
    return False


def safe_name(node: ast.AST) -> bool:
    """A name or attribute whose last part says it holds a number or a constant."""
    last = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return bool(NUMERIC.match(last) or CONSTANT.match(last) or last in SAFE_CALLS)


def safe_generated(node: ast.AST) -> bool:
    if isinstance(node, ast.GeneratorExp | ast.ListComp):
        return safe(node.elt)
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("list", "range", "tuple", "sorted"):
        return all(safe_generated(a) or safe(a) for a in node.args)
    if isinstance(node, ast.Name | ast.Attribute):
        return safe_name(node)
    return isinstance(node, ast.List | ast.Tuple) and all(safe(e) for e in node.elts)


def findings(path: Path) -> list[str]:
    """Every call in ``path`` whose rendered text may carry typed text unescaped."""
    tree = ast.parse(path.read_text(), str(path))
    relative = str(path.relative_to(ROOT))
    _reviewed.clear()
    _reviewed.update(expr for where, expr in REVIEWED if where == relative)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _callee(node)
        if name not in LABELLED:
            continue
        # only Streamlit: st.x, a column (c1.x), st.sidebar.x … — not str.title() / logging.info()
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        if name in ("title", "info", "warning", "error") and not (isinstance(receiver, ast.Name) and receiver.id == "st"):
            continue
        position, keyword = LABELLED[name]
        label = next((k.value for k in node.keywords if k.arg == keyword), None)
        if label is None and len(node.args) > position:
            label = node.args[position]
        where = f"{path.relative_to(ROOT)}:{node.lineno}"
        if not safe(label):
            found.append(f"{where} st.{name}: {ast.unparse(label)[:80]}")
        if name == "page" and len(node.args) > 1 and not safe(node.args[1]):
            found.append(f"{where} page caption: {ast.unparse(node.args[1])[:80]}")
        if name in MARKDOWN_OPTIONS:
            fmt = next((k.value for k in node.keywords if k.arg == "format_func"), None)
            options = next((k.value for k in node.keywords if k.arg == "options"), None)
            if options is None and len(node.args) > 1:
                options = node.args[1]
            if fmt is not None and not safe(fmt):
                found.append(f"{where} st.{name} format_func: {ast.unparse(fmt)[:80]}")
            if fmt is None and options is not None and not (safe_generated(options) or safe(options)):
                found.append(f"{where} st.{name} options: {ast.unparse(options)[:80]}")
    return found


def chart_findings(path: Path) -> list[str]:
    """Every figure drawn without going through charts.plain (a charts.* builder does)."""
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _callee(node) == "plotly_chart":
            figure = node.args[0] if node.args else None
            ok = (isinstance(figure, ast.Call) and isinstance(figure.func, ast.Attribute)
                  and isinstance(figure.func.value, ast.Name) and figure.func.value.id == "charts")
            if not ok:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} plotly_chart({ast.unparse(figure)[:60]})")
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_figure_is_drawn_through_charts_plain(path):
    assert chart_findings(path) == []


def test_every_figure_builder_escapes_and_plain_escapes_what_plotly_renders():
    import inspect

    import plotly.express as px
    import plotly.graph_objects as go

    from artdash.ui import charts

    builders = [f for name, f in vars(charts).items() if inspect.isfunction(f) and not name.startswith("_")
                and f.__module__ == charts.__name__ and inspect.signature(f).return_annotation in ("go.Figure",)
                and name not in ("plain",)]
    assert builders and all(getattr(f, "plain_text", False) for f in builders), [f.__name__ for f in builders]
    evil = '<a href="http://203.0.113.7/">x</a> & <b>bold</b>'
    figure = px.imshow(pd.DataFrame([[0.5, 0.5]], index=[evil], columns=["#1 " + evil, "#2 ok"]),
                       title=f"Which image — {evil}", labels={"x": evil})
    charts.plain(charts.plain(figure))                       # twice: escaped once
    shown = figure.to_plotly_json()
    text = str(shown)
    assert "<a " not in text and "<b>" not in text and "&amp;lt;" not in text
    assert "&lt;a href" in shown["layout"]["title"]["text"]
    assert all("<" not in str(v) for v in [*shown["data"][0]["x"], *shown["data"][0]["y"]])
    assert isinstance(go.Figure(figure), go.Figure)


def test_the_walk_finds_a_name_pasted_raw():
    """The walk itself: a label with a raw name is found, the same label through md() is not."""
    bad = ROOT / "tests" / "_label_probe.py"
    try:
        bad.write_text("st.expander(f'Weight of {cell}')\nst.expander(f'Weight of {md(cell)}')\n"
                       "st.segmented_control('Facet', facet_names)\nst.segmented_control('Facet', names, format_func=md)\n")
        assert [f.split(" ", 1)[1] for f in findings(bad)] == [
            "st.expander: f'Weight of {cell}'", "st.segmented_control options: facet_names"]
    finally:
        bad.unlink()


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_label_takes_typed_text_only_through_md(path):
    assert findings(path) == []
