"""What the tracker's models share."""

from functools import cache

from django.db import models
from django.utils.encoding import force_str


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
