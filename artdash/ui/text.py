"""User text is text: the one way every screen puts what a person typed into Markdown.

Streamlit renders labels, captions, alerts, headers and ``st.markdown`` as Markdown (with
LaTeX and its own ``:color[…]``/``:material/…:`` directives). A title called
``![x](http://host/pixel)`` would make every viewer's browser fetch that URL, and ``*`` or
``_`` would mangle names. :func:`md` backslash-escapes every character Markdown, LaTeX or the
directives give a meaning to, so the text shows exactly as typed. GitHub's autolinks find
``http://…``, ``www.…`` and ``name@host`` in the text *after* escapes are read, so a word
joiner (U+2060, invisible) goes where it breaks them: a typed address stays text, never a link.
"""

from __future__ import annotations

import re

# CommonMark lets any ASCII punctuation be escaped; these are the ones that do something here.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'^@%])")
# Where GitHub-flavoured Markdown's autolinks start: a scheme's colon, "www.", an e-mail's "@".
_AUTOLINK = re.compile(r"(?i)((?:https?|ftp|mailto|xmpp)(?=:)|\bwww(?=\.)|(?<=[-.\w+])(?=@))")
WORD_JOINER = "\u2060"


def md(value: object) -> str:
    """``value`` as text for a Markdown string: every special character escaped, line breaks
    kept as spaces (a name never starts a list or a heading)."""
    text = "" if value is None else str(value)
    unlinked = _AUTOLINK.sub(lambda m: m.group(0) + WORD_JOINER, " ".join(text.splitlines()))
    return _SPECIAL.sub(r"\\\1", unlinked)


def md_list(values, sep: str = ", ") -> str:
    """Several user texts joined, each escaped."""
    return sep.join(md(v) for v in values)
