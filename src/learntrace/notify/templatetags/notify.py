"""Showing a message written in Markdown on a page: the text as written (HTML-escaped), links
become their label (the page has its own button), line breaks stay."""

from django import template
from django.template.defaultfilters import linebreaksbr
from django.utils.html import escape

from learntrace.notify.markup import link_labels

register = template.Library()


@register.filter
def message_text(text: str) -> str:
    return linebreaksbr(escape(link_labels(text)), autoescape=False)
