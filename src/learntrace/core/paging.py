"""Lists shown 50 rows a page, with filters kept in the links to other pages."""

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

PER_PAGE = 50


def page_of(request: HttpRequest, items, per_page: int = PER_PAGE) -> tuple[Page, str]:
    """The page of `items` that the request asks for (`?page=`; out of range or not a number gives the
    nearest page) and the request's query string without its page number, for the page links."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()
