"""Invitation links: a new member of staff sets their own password, once, before the link expires.

Django's password-reset tokens (an HMAC under ``SECRET_KEY`` of the user's
id, password hash and the time the link was made), with a salt of their own,
so a reset link is no invitation and the other way round, and with their own
lifetime, ``INVITATION_LINK_DAYS``. Setting the password changes the hash, so
a link works once; and the account's being active is in the hash too, so a
link of a deactivated account opens nothing.
"""

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "tracker.security.invitations.InvitationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.password}{user.is_active}{user.email}{timestamp}"

    def check_token(self, user, token) -> bool:
        """Django's check, with the invitation's own lifetime instead of PASSWORD_RESET_TIMEOUT."""
        if not (user and token) or not isinstance(token, str):
            return False
        try:
            ts_b36, _hash = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token):
                break
        else:
            return False
        age = self._num_seconds(self._now()) - ts
        return 0 <= age <= settings.INVITATION_LINK_DAYS * 24 * 3600


invitation_tokens = InvitationTokenGenerator()


def link_parts(user) -> tuple[str, str]:
    """(uidb64, token) for the user's invitation link."""
    return urlsafe_base64_encode(force_bytes(user.pk)), invitation_tokens.make_token(user)
