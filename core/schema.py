"""OpenAPI pieces shared by the apps' views."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

# Every error response: the body core.errors renders (type, title, status, detail, code[, errors]).
PROBLEM = OpenApiResponse(OpenApiTypes.OBJECT, description="application/problem+json")
