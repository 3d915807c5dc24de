"""Showing a message written in Markdown on a page: links become their label (the page has
its own button), line breaks stay."""

import re

from django import template
from django.template.defaultfilters import linebreaksbr
from django.utils.html import escape

register = template.Library()

MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


@register.filter
def message_text(text: str) -> str:
    return linebreaksbr(escape(MARKDOWN_LINK.sub(r"\1", text)), autoescape=False)
