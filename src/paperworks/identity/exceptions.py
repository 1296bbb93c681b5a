"""Identity's errors: each knows its status and stable code."""

from collections.abc import Mapping
from typing import ClassVar

from paperworks.kit.errors import AppError, Conflict, NotFound, PermissionDenied, Unauthenticated


class InvalidCredentials(Unauthenticated):
    code = "auth.invalid_credentials"
    title = "Invalid email or password"


class InvalidToken(Unauthenticated):
    code = "auth.invalid_token"
    title = "Invalid or expired token"
    default_headers: ClassVar[Mapping[str, str]] = {
        "WWW-Authenticate": 'Bearer error="invalid_token"'  # RFC 6750
    }


class RefreshTokenReused(Unauthenticated):
    code = "auth.refresh_token_reused"
    title = "Refresh token already used"
    keeps_changes = True  # the family's revocation must outlive the 401


class SignedOut(Unauthenticated):
    code = "auth.signed_out"
    title = "Signed out"


class InvalidMagicLink(Unauthenticated):
    code = "auth.invalid_magic_link"
    title = "Invalid or expired sign-in link"


class InvalidApiKey(Unauthenticated):
    code = "auth.invalid_api_key"
    title = "Invalid, expired or revoked API key"


class EmailTaken(Conflict):
    code = "user.email_taken"
    title = "Email already registered"


class RedirectNotAllowed(AppError):
    status_code = 422
    code = "auth.redirect_not_allowed"
    title = "Redirect URL not allowed"


class WorkspaceNotFound(NotFound):
    code = "workspace.not_found"
    title = "Workspace not found"


class MemberNotFound(NotFound):
    code = "member.not_found"
    title = "Member not found"


class ApiKeyNotFound(NotFound):
    code = "api_key.not_found"
    title = "API key not found"


class AlreadyMember(Conflict):
    code = "member.already_member"
    title = "Already a member"


class InvitationNotFound(NotFound):
    code = "invitation.not_found"
    title = "Invitation not found"


class InvitationForAnotherAccount(PermissionDenied):
    code = "invitation.wrong_account"
    title = "This invitation is for another address"


class InvitationGone(AppError):
    """Expired, revoked or already used: the token was real but no longer admits anyone."""

    status_code = 410
    code = "invitation.gone"
    title = "Invitation expired, revoked or already used"


class InvitationExpired(InvitationGone):
    code = "invitation.expired"
    title = "Invitation expired"


class InvitationRevoked(InvitationGone):
    code = "invitation.revoked"
    title = "Invitation revoked"


class InvitationUsed(InvitationGone):
    code = "invitation.used"
    title = "Invitation already used"


class InvitationAccepted(Conflict):
    code = "invitation.accepted"
    title = "Invitation already accepted"


class LastOwner(Conflict):
    code = "member.last_owner"
    title = "A workspace needs an owner"


class PersonalWorkspace(Conflict):
    code = "workspace.personal"
    title = "Personal workspaces cannot be deleted"


class MissingPermission(PermissionDenied):
    code = "auth.missing_permission"
    title = "Your role does not allow this"
