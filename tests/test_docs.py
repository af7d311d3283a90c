"""The docs stay true to the code: the CLI reference is the commands' own help, the layout
page lists the package as it is, the README stays a front page."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_cli_reference_is_the_commands_own_help():
    from artdash.cli.reference import reference_markdown

    written = (ROOT / "docs" / "cli-reference.md").read_text()
    assert written == reference_markdown(), "docs/cli-reference.md is stale: run `make reference`"


def test_the_layout_page_lists_the_package_as_it_is():
    text = (ROOT / "docs" / "development.md").read_text()
    block = text.split("```\n", 2)[1] if "```\n" in text else ""
    block = block[block.index("artdash/\n"):block.index("\ntests/")]
    listed = set()
    for line in block.splitlines()[1:]:
        if re.match(r"^  [a-z_]", line):                    # an entry; deeper lines continue its description
            names = re.split(r"\s{2,}", line.strip())[0]
            listed |= set(re.findall(r"([a-z_]+)(?:/|\.py)", names))
    real = {p.name for p in (ROOT / "artdash").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    real |= {p.stem for p in (ROOT / "artdash").glob("*.py") if not p.stem.startswith("__")}
    real.add("assets")
    assert listed == real, f"listed but not in the package: {sorted(listed - real)}; in the package but not listed: " \
                           f"{sorted(real - listed)}"


def test_the_readme_is_a_front_page():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.encode()) <= 12 * 1024
    for needed in ("make run", "make test", "docs/screenshots/", "docs/decision-service.md"):
        assert needed in readme
    for link in re.findall(r"\]\(((?:docs|bench)/[^)#]+)\)", readme):
        assert (ROOT / link).exists(), link
