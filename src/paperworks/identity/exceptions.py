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


# --- single sign-on ---------------------------------------------------------------------------
# Before the callback knows where the sign-in started (its state), these answer as problems;
# after that, the browser is sent back to the sign-in's redirectUrl with `?error=<code>`.


class SsoError(AppError):
    """A single sign-on that cannot go on."""

    code = "sso.failed"
    title = "Single sign-on failed"


class UnknownProvider(NotFound):
    code = "sso.unknown_provider"
    title = "No such single sign-on provider"


class SsoStateMissing(SsoError):
    code = "sso.state_missing"
    title = "The callback has no state"


class SsoStateInvalid(SsoError):
    code = "sso.state_invalid"
    title = "No sign-in started with this state at this provider"


class SsoStateExpired(SsoError):
    code = "sso.state_expired"
    title = "The sign-in took too long; start again"


class SsoStateUsed(SsoError):
    code = "sso.state_used"
    title = "This sign-in was already completed"


class SsoBrowserMissing(SsoError):
    code = "sso.browser_missing"
    title = "The browser that started the sign-in did not come back with its cookie"


class SsoBrowserMismatch(SsoError):
    code = "sso.browser_mismatch"
    title = "The sign-in was started in another browser"


class SsoProviderError(SsoError):
    code = "sso.provider_error"
    title = "The provider refused the sign-in"


class SsoProviderUnavailable(SsoError):
    status_code = 502
    code = "sso.provider_unavailable"
    title = "The provider could not be reached or is misconfigured"


class SsoCodeExchangeFailed(SsoError):
    code = "sso.code_exchange_failed"
    title = "The provider would not exchange the authorization code"


class SsoInvalidIdToken(SsoError):
    status_code = 401
    code = "sso.invalid_id_token"
    title = "The provider's ID token is not acceptable"


class SsoBadSignature(SsoInvalidIdToken):
    code = "sso.bad_signature"
    title = "The ID token is not signed by the provider"


class SsoWrongIssuer(SsoInvalidIdToken):
    code = "sso.wrong_issuer"
    title = "The ID token is from another issuer"


class SsoWrongAudience(SsoInvalidIdToken):
    code = "sso.wrong_audience"
    title = "The ID token is for another client"


class SsoTokenExpired(SsoInvalidIdToken):
    code = "sso.token_expired"
    title = "The ID token is expired or not yet valid"


class SsoNonceMismatch(SsoInvalidIdToken):
    code = "sso.nonce_mismatch"
    title = "The ID token belongs to another sign-in"


class SsoEmailNotVerified(SsoError):
    status_code = 403
    code = "sso.email_not_verified"
    title = "The provider has not verified this email address"


class SsoDomainNotAllowed(SsoError):
    status_code = 403
    code = "sso.domain_not_allowed"
    title = "This email domain may not sign in with this provider"


class SsoSignupNotAllowed(SsoError):
    status_code = 403
    code = "sso.signup_not_allowed"
    title = "No account for this identity, and this provider does not create accounts"


class InvalidSsoCode(Unauthenticated):
    code = "sso.invalid_code"
    title = "Invalid, used or expired sign-in code"


class IdentityNotFound(NotFound):
    code = "identity.not_found"
    title = "Linked identity not found"


class LastSignInMethod(Conflict):
    code = "identity.last_sign_in_method"
    title = "This is the account's last way to sign in"
