"""What the tracker's models share."""

from functools import cache

from django.db import models
from django.utils.encoding import force_str

from tracker.choices import Role


@cache
def _labels(field) -> dict:
    """A choice field's value → label, built once per field (labels stay lazy)."""
    return dict(field.flatchoices)


class TrackerModel(models.Model):
    """A model whose ``get_FOO_display()`` reads its labels from a dict built once.

    Django's own rebuilds the dict on every call and hashes each label on the
    way, translating every choice of the field: on a patient page with ten
    sessions that was over a thousand translations and half the page's time.
    """

    class Meta:
        abstract = True

    def _get_FIELD_display(self, field):
        value = getattr(self, field.attname)
        return force_str(_labels(field).get(value, value), strings_only=True)


class ClinicScopedQuerySet(models.QuerySet):
    """The one way to scope rows to what a staff member may see.

    Each model's QuerySet names ``clinic_path``, the lookup from a row to its
    clinic (``"clinic"``, ``"follow_up__clinic"``; empty for the clinic
    itself). Every view starts from ``for_user`` or ``led_by``; a row outside
    them is a 404, never a 403, so its existence is not given away.
    """

    clinic_path = "clinic"

    def _lookup(self, field: str) -> str:
        return f"{self.clinic_path}__{field}" if self.clinic_path else field

    def for_user(self, user):
        """Rows of the clinics the user is a member of, in any role."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(**{self._lookup("memberships__user"): user})

    def led_by(self, user):
        """Rows of the clinics the user leads: audit trails, erasure, clinic settings."""
        if not user.is_authenticated:
            return self.none()
        # One filter() call, so that user and role are matched on the same membership.
        return self.filter(
            **{
                self._lookup("memberships__user"): user,
                self._lookup("memberships__role"): Role.LEAD,
            }
        )

    def in_clinics(self, clinic_ids):
        """Rows of these clinics, by id: read through the clinic's own indexes
        (the dashboard), where a join through the memberships could not be."""
        return self.filter(**{self._lookup("in") if self.clinic_path else "pk__in": clinic_ids})
