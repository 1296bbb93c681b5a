"""Roles are named sets of permissions; routes ask for a permission, never for a role."""

from enum import StrEnum


class Role(StrEnum):
    owner = "owner"
    admin = "admin"
    member = "member"


# owner ⊇ admin ⊇ member: an admin manages the workspace's shared material (booklets' books,
# pages, conditions) and its webhooks, but not the workspace itself or its members.
MEMBER_PERMISSIONS = frozenset({"workspace:read", "members:read", "api_keys:manage"})
ADMIN_PERMISSIONS = MEMBER_PERMISSIONS | {"booklets:manage", "webhooks:manage"}
OWNER_PERMISSIONS = ADMIN_PERMISSIONS | {"workspace:update", "workspace:delete", "members:manage"}

PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.owner: OWNER_PERMISSIONS,
    Role.admin: ADMIN_PERMISSIONS,
    Role.member: MEMBER_PERMISSIONS,
}
ALL_PERMISSIONS = frozenset().union(*PERMISSIONS.values())


def allows(role: Role | None, permission: str, *, is_admin: bool = False) -> bool:
    """Admins may do anything in any workspace; everyone else what their role lists."""
    if permission not in ALL_PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")  # a typo in a route, not a 403
    return is_admin or (role is not None and permission in PERMISSIONS[role])
