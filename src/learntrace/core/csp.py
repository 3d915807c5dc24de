"""The Content-Security-Policy of every response.

Pages load scripts, styles, images and media from this site only (and from the bucket when files are
kept in object storage), and nothing runs
inline: the templates have no inline scripts, event-handler attributes or style
attributes (bars and charts are drawn with SVG attributes, behaviour lives in
static/learntrace/*.js), so neither 'unsafe-inline' nor nonces are needed. No page
may be framed, except a course's own PDF, which the course page frames (see
`allow_framing_by_this_site`). Django 5.2 has no CSP support of its own, and the
policy is one fixed string, so a middleware of a few lines does it without a dependency.
"""

from urllib.parse import urlsplit

from django.conf import settings

HEADER = "Content-Security-Policy"


def policy(*, frame_ancestors: str = "'none'", script_origins: tuple[str, ...] = ()) -> str:
    form_action = " ".join(["'self'", *settings.CSP_FORM_ACTION_ORIGINS])
    # With object storage, this site's file addresses redirect to the bucket: videos play, certificates
    # show and PDFs are framed from there.
    bucket = (settings.S3_ORIGIN,) if settings.S3_ORIGIN else ()
    return "; ".join([
        "default-src 'self'",
        " ".join(["script-src 'self'", *script_origins]),
        "style-src 'self'",
        # data: for the signature drawn at check-in (stored as a PNG data URL) and Swagger UI's icons.
        " ".join(["img-src 'self' data:", *bucket]),
        *([f"media-src 'self' {settings.S3_ORIGIN}", f"frame-src 'self' {settings.S3_ORIGIN}"] if bucket else []),
        "object-src 'none'",
        "base-uri 'self'",
        f"form-action {form_action}",
        f"frame-ancestors {frame_ancestors}",
    ])


def allow_framing_by_this_site(response):
    """Let pages of this site (and no other) frame `response`: the course page shows its PDF in a frame."""
    response["X-Frame-Options"] = "SAMEORIGIN"
    response[HEADER] = policy(frame_ancestors="'self'")
    return response


def allow_script_from(response, url: str):
    """Let `response` load one script from another origin: DingTalk's JSAPI on its in-app sign-in page."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        response[HEADER] = policy(script_origins=(f"{parts.scheme}://{parts.netloc}",))
    return response


class ContentSecurityPolicyMiddleware:
    """Adds the policy to every response that does not bring its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = policy()
        return response
