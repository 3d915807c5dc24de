"""Around every API request: log the use of a token (refused requests included), and give
the answers Django makes by itself under /api/v1/ (an unknown path, a method an operation
does not have) the API's error shape."""


from django.http import JsonResponse
from django.utils.translation import gettext as _

from learntrace.api import tokens

API_PREFIX = "/api/v1/"


class ApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith(API_PREFIX) and response.status_code in (404, 405) \
                and not response.get("Content-Type", "").startswith("application/json"):
            response = self._shaped(response)
        token = getattr(request, "api_token", None)
        if token is not None:
            route = request.resolver_match.route if request.resolver_match else "?"
            tokens.record_use(token=token, method=request.method, endpoint=f"/{route}", status=response.status_code)
        return response

    @staticmethod
    def _shaped(response):
        if response.status_code == 404:
            error = {"code": "not_found", "message": _("Not found, or not visible to you."), "fields": {}}
        else:
            error = {"code": "method_not_allowed", "message": _("This operation does not accept this method."),
                     "fields": {}}
        shaped = JsonResponse({"error": error}, status=response.status_code,
                              json_dumps_params={"ensure_ascii": False})
        if response.has_header("Allow"):
            shaped["Allow"] = response["Allow"]
        return shaped



