from django.db import models

from tracker.models.base import TrackerModel
from tracker.security import tokens


class AccessLinkQuerySet(models.QuerySet):
    def usable_at(self, moment):
        return self.filter(revoked_at__isnull=True, expires_at__gt=moment)


class AccessLink(TrackerModel):
    """The patient's way into a session's check-ins, without a password.

    The token in the link is an HMAC of ``nonce`` under the server's secret
    key (see ``tracker.security.tokens``); only its SHA-256 is stored, so a copy of the
    database alone opens no link, while the server can still show the link
    again as a QR code or put it in a reminder.
    """

    session = models.ForeignKey(
        "tracker.NeedlingSession", on_delete=models.CASCADE, related_name="access_links"
    )
    nonce = models.CharField(max_length=32, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = AccessLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Link for session {self.session_id}"

    @property
    def token(self) -> str:
        """The token in the patient's URL (derived, never stored)."""
        return tokens.token_for(self.nonce)

    def is_usable_at(self, moment) -> bool:
        return self.revoked_at is None and moment < self.expires_at
