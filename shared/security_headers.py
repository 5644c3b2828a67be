"""Security headers on every HTML page a service serves.

A Content-Security-Policy that allows nothing but what the page needs (no scripts at all, styles
only as the service says, no framing by other sites), no Referer leaking a page's address (entry
and receipt ids) to other sites, and no content-type sniffing on any response. The /docs and
/redoc pages run Swagger UI and ReDoc (served from the package's own files, under /docs/assets) with
inline scripts: operators' pages, left to their own defaults.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Without style-src: no styles at all; services with pages add theirs (see style_hashes).
BASE_POLICY = "default-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
_DOCS = ("/docs", "/redoc")


def style_hashes(*templates: Path) -> str:
    """`'sha256-…'` sources for every <style> element in these templates (their text is static)."""
    found = []
    for path in templates:
        for css in re.findall(r"<style>(.*?)</style>", path.read_text(encoding="utf-8"), flags=re.S):
            found.append("'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'")
    return " ".join(found)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, policy: str = BASE_POLICY) -> None:
        self.app, self.policy = app, policy.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        docs = scope["path"].startswith(_DOCS)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
                headers.append((b"x-content-type-options", b"nosniff"))
                if html and not docs:
                    headers += [(b"content-security-policy", self.policy), (b"referrer-policy", b"no-referrer")]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)
