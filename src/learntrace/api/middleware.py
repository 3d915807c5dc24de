"""Logs every request made with an API token (refused ones included), after the response."""

from learntrace.api import tokens


class TokenUseMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        token = getattr(request, "api_token", None)
        if token is not None:
            route = request.resolver_match.route if request.resolver_match else request.path_info[:200]
            tokens.record_use(token=token, method=request.method, endpoint=f"/{route}", status=response.status_code)
        return response
