"""Permission helpers shared by every API.

Object access is decided by selectors (another user's object is simply not found, a 404); these classes
cover roles, staff, and API-key scopes.
"""

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request


class IsStaff(BasePermission):
    message = "Staff only."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class HasRole(BasePermission):
    """`permission_classes = [HasRole.of("artist")]`: staff pass every role check."""

    roles: tuple[str, ...] = ()
    message = "Your account's role cannot do this."

    @classmethod
    def of(cls, *roles: str) -> type["HasRole"]:
        return type(f"HasRole_{'_'.join(roles)}", (cls,), {"roles": roles})

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_staff or user.role in self.roles))


class HasScope(BasePermission):
    """API keys carry scopes; a view lists what it needs in `required_scopes` (reads and writes may differ:
    `required_scopes = {"GET": {"gallery:read"}, "POST": {"gallery:write"}}`). Login tokens and sessions
    carry every scope."""

    message = "This API key lacks the scope this endpoint needs."

    def has_permission(self, request: Request, view: Any) -> bool:
        required = getattr(view, "required_scopes", None)
        if not required or not hasattr(view, request.method.lower()):
            return True  # a method the view does not have is DRF's 405, whatever the key's scopes
        if isinstance(required, dict):
            fallback = "GET" if request.method in SAFE_METHODS else "POST"
            required = required.get(request.method, required.get(fallback, set()))
        granted = getattr(request.auth, "scopes", None)
        if granted is None:  # not an API key
            return True
        return set(required) <= set(granted)


class WritesNeedRole(BasePermission):
    """`WritesNeedRole.of("artist")`: reads pass, writes need the role (staff pass). As a permission it runs
    before the view reads the body, so a buyer's upload is refused before a byte of it is parsed."""

    roles: tuple[str, ...] = ()
    message = HasRole.message

    @classmethod
    def of(cls, *roles: str) -> type["WritesNeedRole"]:
        return type(f"WritesNeedRole_{'_'.join(roles)}", (cls,), {"roles": roles})

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS or HasRole.of(*self.roles)().has_permission(request, view)
