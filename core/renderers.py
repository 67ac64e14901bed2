"""Renderers shared by the apps' file endpoints."""

import json
from typing import Any

from rest_framework.renderers import BaseRenderer


class AnyMediaRenderer(BaseRenderer):
    """Lets file endpoints honour `Accept: image/png` (or any type); errors still render as problem+json."""

    media_type = "*/*"
    format = "file"
    charset = None

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return data if isinstance(data, bytes) else json.dumps(data).encode()
