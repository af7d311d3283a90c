"""artdash.ui.text.md: what a person typed reaches Markdown as text."""

import re

import pytest

from artdash.ui.text import WORD_JOINER, md, md_list


@pytest.mark.parametrize("typed", ["![x](http://203.0.113.7/p.png)", "*bold* _it_ `code`", "$x^2$", ":red[r]",
                                   ":material/home:", "<img src=x>", "# heading", "1. list", "a | b", "~~s~~",
                                   "back\\slash", "[link](javascript:alert(1))"])
def test_every_markdown_meaning_is_escaped_and_the_text_comes_back_as_typed(typed):
    escaped = md(typed)
    # Undoing the escapes gives back exactly what was typed …
    assert re.sub(r"\\(.)", r"\1", escaped).replace(WORD_JOINER, "") == typed
    # … and no special character is left bare.
    assert not re.search(r"(?<!\\)[`*_\[\]()#$:<>!|~]", escaped.replace("\\\\", ""))


def test_line_breaks_become_spaces_and_lists_join():
    assert md("two\nlines") == "two lines"
    assert md(None) == ""
    assert md_list(["*a*", "b"]) == r"\*a\*, b"


# GitHub's autolink-literal patterns (mdast-util-gfm-autolink-literal), which run on the text
# after escapes are read: what they match would become a link.
GFM_URL = re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.IGNORECASE)
GFM_EMAIL = re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)")


@pytest.mark.parametrize("typed", ["see http://203.0.113.7/p.png", "HTTPS://example.org", "www.example.org now",
                                   "write to eve@example.org", "ftp://x.org", "mailto:eve@example.org"])
def test_a_bare_address_is_never_a_link(typed):
    read = re.sub(r"\\(.)", r"\1", md(typed))          # the text as Markdown reads it, escapes undone
    assert not GFM_URL.search(read) and not GFM_EMAIL.search(read)
    assert read.replace(WORD_JOINER, "") == typed         # and it shows as typed (the joiner is invisible)
