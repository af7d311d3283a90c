"""artdash.ui.text.md: what a person typed reaches Markdown as text."""

import re

import pytest

from artdash.ui.text import md, md_list


@pytest.mark.parametrize("typed", ["![x](http://203.0.113.7/p.png)", "*bold* _it_ `code`", "$x^2$", ":red[r]",
                                   ":material/home:", "<img src=x>", "# heading", "1. list", "a | b", "~~s~~",
                                   "back\\slash", "[link](javascript:alert(1))"])
def test_every_markdown_meaning_is_escaped_and_the_text_comes_back_as_typed(typed):
    escaped = md(typed)
    # Undoing the escapes gives back exactly what was typed …
    assert re.sub(r"\\(.)", r"\1", escaped) == typed
    # … and no special character is left bare.
    assert not re.search(r"(?<!\\)[`*_\[\]()#$:<>!|~]", escaped.replace("\\\\", ""))


def test_line_breaks_become_spaces_and_lists_join():
    assert md("two\nlines") == "two lines"
    assert md(None) == ""
    assert md_list(["*a*", "b"]) == r"\*a\*, b"
