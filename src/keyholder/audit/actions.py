"""Every action the audit log records, in one place (as warehouse's ``EventTag``).

Stored by value: the strings are the log's vocabulary, which people and tools
filter on (``keyholder audit list --action member.add``), and rows already
written keep them. Never rename a value; add a member instead.
"""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    # ruff's S105 takes "token" and "password" in these names for secrets: they are not.
    # An enterprise account, its members and invitations (accounts).
    ACCOUNT_CREATE = "account.create"
    MEMBER_ADD = "member.add"
    MEMBER_UPDATE = "member.update"
    MEMBER_REMOVE = "member.remove"
    INVITATION_CREATE = "invitation.create"
    INVITATION_REVOKE = "invitation.revoke"
    INVITATION_ACCEPT = "invitation.accept"
    ACCOUNT_RECOVERY_CODES_GENERATE = "account.recovery_codes_generate"
    ACCOUNT_RECOVERY_CODE_REFUSED = "account.recovery_code_refused"
    # Its recovery contacts (accounts.contacts).
    CONTACT_ADD = "contact.add"
    CONTACT_UPDATE = "contact.update"
    CONTACT_REMOVE = "contact.remove"
    CONTACT_CONFIRMATION_SEND = "contact.confirmation_send"
    CONTACT_CONFIRM = "contact.confirm"

    # A request for admin access (access).
    ACCESS_REQUEST_SUBMIT = "access_request.submit"
    ACCESS_REQUEST_CONFIRM_EMAIL = "access_request.confirm_email"
    ACCESS_REQUEST_STATE = "access_request.state"
    ACCESS_REQUEST_REQUEST_INFO = "access_request.request_info"
    ACCESS_REQUEST_REJECT = "access_request.reject"
    ACCESS_REQUEST_APPROVE = "access_request.approve"
    ACCESS_REQUEST_DECISION_REFUSED = "access_request.decision_refused"
    ACCESS_REQUEST_VETO = "access_request.veto"
    ACCESS_REQUEST_EXECUTIVE_CONFIRM = "access_request.executive_confirm"
    ACCESS_REQUEST_EXECUTIVE_DENY = "access_request.executive_deny"
    ACCESS_REQUEST_DNS_CHECK = "access_request.dns_check"
    ACCESS_REQUEST_PRESCREEN = "access_request.prescreen"
    ACCESS_REQUEST_VIEW_ANNOTATED_LETTER = "access_request.view_annotated_letter"
    ACCESS_REQUEST_EXECUTE = "access_request.execute"
    ACCESS_REQUEST_RECOVERY_CLAIM = "access_request.recovery_claim"
    ACCESS_REQUEST_RETENTION_PURGE = "access_request.retention_purge"

    # Support tickets (desk).
    TICKET_OPEN = "ticket.open"
    TICKET_STATUS = "ticket.status"
    TICKET_NOTE = "ticket.note"
    TICKET_PRIORITY = "ticket.priority"
    TICKET_GROUP = "ticket.group"
    TICKET_ASSIGN = "ticket.assign"
    TICKET_ACCOUNT = "ticket.account"
    ATTACHMENT_VIEW = "attachment.view"
    CANNED_REPLY_SAVE = "canned_reply.save"
    CANNED_REPLY_DELETE = "canned_reply.delete"

    # Users, their credentials and sessions (identity).
    USER_CREATE = "user.create"
    USER_STAFF_ROLE = "user.staff_role"
    USER_SESSION_ROTATE = "user.session_rotate"
    USER_CREDENTIALS_REVOKE = "user.credentials_revoke"
    USER_LOG_OUT_EVERYWHERE = "user.log_out_everywhere"
    USER_EMAIL_CHANGE_REQUEST = "user.email_change_request"
    USER_EMAIL_CHANGE = "user.email_change"
    USER_EMAIL_CHANGE_REFUSED = "user.email_change_refused"
    USER_EMAIL_CHANGE_FAILED = "user.email_change_failed"
    TOKEN_CREATE = "token.create"  # noqa: S105
    EMAIL_VERIFICATION_REQUEST = "email_verification.request"
    EMAIL_VERIFICATION_COMPLETE = "email_verification.complete"
    EMAIL_VERIFICATION_FAILED = "email_verification.failed"
    PASSWORD_RESET_REQUEST = "password_reset.request"  # noqa: S105
    PASSWORD_RESET_REQUEST_REFUSED = "password_reset.request_refused"  # noqa: S105
    PASSWORD_RESET_COMPLETE = "password_reset.complete"  # noqa: S105
    PASSWORD_RESET_FAILED = "password_reset.failed"  # noqa: S105
    MFA_ENABLE = "mfa.enable"
    MFA_DISABLE = "mfa.disable"
    MFA_RECOVERY_CODES = "mfa.recovery_codes"
    MFA_RESET = "mfa.reset"
    MFA_VERIFY_FAILED = "mfa.verify_failed"
    MFA_RECOVERY_CODE_USE = "mfa.recovery_code_use"
    PASSKEY_REGISTER = "passkey.register"
    PASSKEY_RENAME = "passkey.rename"
    PASSKEY_REMOVE = "passkey.remove"
    PASSKEY_SIGN_IN = "passkey.sign_in"
    PASSKEY_VERIFY_FAILED = "passkey.verify_failed"
    PASSKEY_CLONE_WARNING = "passkey.clone_warning"
    KEYS_ROTATE = "keys.rotate"

    # Webhook endpoints (webhooks): subscriptions, secrets, automatic disabling.
    WEBHOOK_ADD = "webhook.add"
    WEBHOOK_REMOVE = "webhook.remove"
    WEBHOOK_DISABLE = "webhook.disable"
    WEBHOOK_REDELIVER = "webhook.redeliver"
    WEBHOOK_ROTATE_SECRET = "webhook.rotate_secret"  # noqa: S105
    # Bearer tokens of an account's SCIM endpoint (scim).
    SCIM_TOKEN_CREATE = "scim.token_create"  # noqa: S105
    SCIM_TOKEN_REVOKE = "scim.token_revoke"  # noqa: S105
