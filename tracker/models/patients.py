from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker import names
from tracker.choices import Language, ReminderChannel
from tracker.models.base import ClinicScopedQuerySet, TrackerModel


class PatientQuerySet(ClinicScopedQuerySet):
    """Patients, scoped by ``for_user`` (any member) or ``led_by`` (erasure)."""


class Patient(TrackerModel):
    """A clinic's patient. Only what follow-up needs: no address, no diagnosis.

    A patient who asks to be forgotten is erased, not deleted
    (``services.erase_patient``): their personal details go, ``erased_at`` is
    set, and their sessions and reports stay, anonymous, in the clinic's
    statistics and under the audit trail.
    """

    # Indexed by patient_clinic_name_idx, which starts with it.
    clinic = models.ForeignKey(
        "tracker.Clinic", on_delete=models.PROTECT, related_name="patients", db_index=False
    )
    display_name = models.CharField(_("name"), max_length=120)
    reference = models.CharField(
        _("clinic reference (MRN)"),
        max_length=40,
        blank=True,
        help_text=_("The clinic's own record number, if it uses one."),
    )
    year_of_birth = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    email = models.EmailField(blank=True)
    phone = models.CharField(
        max_length=32,
        blank=True,
        help_text=_("A mobile number, as the patient gives it; kept in international form."),
    )
    phone_refused_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "When the text-message provider refused this number for good: no text reminder "
            "is sent to it until the number is changed."
        ),
    )
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.ENGLISH)
    reminder_channel = models.CharField(
        max_length=8, choices=ReminderChannel.choices, default=ReminderChannel.NONE
    )
    reminders_consent = models.BooleanField(
        _("agrees to reminders"),
        default=False,
        help_text=_("The patient agreed to be sent check-in reminders."),
    )
    consent_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    erased_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the patient's personal details were erased at their request."),
    )

    # Derived from the name and reference on every save() (``refresh_keys``): see tracker/names.py.
    name_key = models.CharField(max_length=255, blank=True, editable=False)
    search_key = models.CharField(max_length=400, blank=True, editable=False)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["display_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "reference"],
                condition=~models.Q(reference=""),
                name="patient_unique_reference_per_clinic",
            ),
            models.CheckConstraint(
                condition=models.Q(year_of_birth__isnull=True)
                | models.Q(year_of_birth__gte=1900, year_of_birth__lte=2100),
                name="patient_year_of_birth_plausible",
            ),
        ]
        indexes = [
            # The patient list: a clinic's patients by name.
            models.Index(fields=["clinic", "display_name"], name="patient_clinic_name_idx"),
            # Possible duplicates on the add and edit forms, and names shared in lists.
            models.Index(fields=["clinic", "name_key"], name="patient_clinic_name_key_idx"),
        ]

    def __str__(self):
        return self.display_name

    def refresh_keys(self) -> None:
        """Set ``name_key`` and ``search_key`` from the name and reference.

        ``save()`` calls it, so every path that saves a patient keeps them in
        step; ``bulk_create`` and ``update()`` skip ``save()``, and their
        callers call it themselves. Pure computation: no other row is touched.
        """
        self.name_key = names.name_key(self.display_name)[:255]
        self.search_key = names.search_key(self.display_name, self.reference)[:400]

    def save(self, *args, **kwargs):
        self.refresh_keys()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"display_name", "reference"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "name_key", "search_key"}
        super().save(*args, **kwargs)

    @property
    def phone_refused(self) -> bool:
        """Whether the SMS provider refused the number now on the record."""
        return self.phone_refused_at is not None

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None
