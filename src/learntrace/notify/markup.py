"""The Markdown of a reminder, and what each channel makes of it.

A reminder's text is CommonMark written by `messages.py`: its own markup (list items, the link
to learntrace) and, inside, data (names, departments, plans, course titles, locations) made
literal by `literal()` with backslash escapes. Each channel then renders it:

- plain text (e-mail, a WeCom text message, the in-app bell): escapes resolved, links as
  "label: URL";
- the platforms' Markdown (DingTalk, WeCom, Feishu): their dialects document no backslash
  escapes, so an escaped character becomes its full-width twin (［ ］ ＜ ＞ ＠ …), which no
  dialect reads as markup: data can never become a link, a mention (<@all>, <at id=all>)
  or formatting.
"""

import html
import re

# Characters that start or close markup in CommonMark or in a platform's dialect: links and
# images, emphasis, code, headings, tables, HTML and mentions, entities, "scheme:" links.
SPECIAL = frozenset("\\`*_~[]()<>#!|@&:")
WHITESPACE = re.compile(r"\s+")
# One token at a time, left to right: an escaped ASCII punctuation character, or a link.
TOKEN = re.compile(r"\\([!-/:-@\[-`{-~])|\[([^\]\\]*)\]\(([^)\s]*)\)")


def literal(value) -> str:
    """Data as CommonMark text: on one line, every special character escaped."""
    text = WHITESPACE.sub(" ", str(value)).strip()
    return "".join(f"\\{char}" if char in SPECIAL else char for char in text)


def one_line(value) -> str:
    """Data in a plain-text line (a subject): whitespace, line breaks included, made one space."""
    return WHITESPACE.sub(" ", str(value)).strip()


def _render(markdown: str, *, char, link) -> str:
    def token(match):
        if match.group(1) is not None:
            return char(match.group(1))
        return link(match.group(2), match.group(3))

    return TOKEN.sub(token, markdown)


def plain_text(markdown: str) -> str:
    """For channels without Markdown: characters as written, a link reads "label: URL"."""
    return _render(markdown, char=lambda c: c, link=lambda label, url: f"{label}: {url}")


def platform_text(markdown: str) -> str:
    """For a platform's plain-text message (Feishu's text parses <at> tags): characters as written, except
    those that would open a tag, which become their full-width twins; a link reads "label: URL"."""
    return _render(markdown, char=lambda c: _full_width(c) if c in "<>" else c,
                   link=lambda label, url: f"{label}: {url}")


def html_body(markdown: str) -> str:
    """For e-mail's HTML part: every character escaped, the message's own links as links, blank
    lines between paragraphs and line breaks kept. Data cannot add markup: it is escaped twice
    over (backslash in the Markdown, then HTML)."""
    def inline(text: str) -> str:
        out, position = [], 0
        for match in TOKEN.finditer(text):
            out.append(html.escape(text[position:match.start()]))
            if match.group(1) is not None:
                out.append(html.escape(match.group(1)))
            else:
                out.append(f'<a href="{html.escape(match.group(3))}">{html.escape(match.group(2))}</a>')
            position = match.end()
        out.append(html.escape(text[position:]))
        return "".join(out)

    paragraphs = [block for block in re.split(r"\n\s*\n", markdown) if block.strip()]
    return "\n".join(f"<p>{'<br>'.join(inline(line) for line in block.split(chr(10)))}</p>" for block in paragraphs)


def link_labels(markdown: str) -> str:
    """For a page that shows its own button: characters as written, a link reads as its label."""
    return _render(markdown, char=lambda c: c, link=lambda label, url: label)


def _full_width(char: str) -> str:
    return chr(ord(char) + 0xFEE0)  # "!".."~" have full-width forms at U+FF01..U+FF5E


def platform_markdown(markdown: str) -> str:
    """For DingTalk, WeCom and Feishu Markdown: escaped characters as their full-width twins."""
    return _render(markdown, char=_full_width, link=lambda label, url: f"[{label}]({url})")


def platform_literal(value) -> str:
    """Data placed straight into a platform's Markdown (a WeCom heading)."""
    return platform_markdown(literal(value))


# A platform id a mention may name: no markup, no list separator, and never "all".
MENTIONABLE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MOBILE = re.compile(r"^\+?[0-9][0-9 -]{4,19}$")


def mentionable(user_id: str) -> bool:
    return bool(MENTIONABLE.match(user_id or "")) and user_id.strip("@").lower() != "all"


def is_mobile(number: str) -> bool:
    return bool(MOBILE.match(number or ""))


def utf8_prefix(text: str, limit: int) -> str:
    """The longest start of `text` whose UTF-8 takes at most `limit` bytes (never half a character)."""
    return text.encode()[:max(limit, 0)].decode(errors="ignore")


def fit(markdown: str, limit: int, body, left_out) -> str:
    """The reminder's Markdown, shortened so that `body(markdown)` (what the platform counts, as
    UTF-8) takes at most `limit` bytes: never refused for its size, never dropped.

    Lines are left out from the end of the text but the last line (the link to learntrace, which
    has the rest), and `left_out(n)` says how many; a first line that alone is too long is cut."""
    if len(body(markdown).encode()) <= limit:
        return markdown
    lines = markdown.split("\n")
    head, tail = lines[:-1], lines[-1:]
    while head:
        head.pop()
        while head and not head[-1].strip():
            head.pop()
        dropped = sum(1 for line in lines[len(head):-1] if line.strip())
        candidate = "\n".join(head + ["", left_out(dropped), ""] + tail)
        if head and len(body(candidate).encode()) <= limit:
            return candidate
    # Not even the first line and the link fit: the first line is cut to what does.
    first = lines[0]
    while first:
        first = first[:len(first) * 3 // 4]
        candidate = "\n".join([first + "…", ""] + tail)
        if len(body(candidate).encode()) <= limit:
            return candidate
    return "\n".join(tail)
