"""The admin: clinics and staff, and a careful look at (and fix of) patient records.

Patient data can be read and corrected here, but the admin never goes
around the audit trail: opening a record records a "view", a list of
records a "view" of each patient on the page shown, saving it a change, and nothing that holds patient data can be deleted (a deletion
cascaded from a session to its reports and alerts with no trace). Erasure
and "entered in error" in the app are the ways to take data out of use.
"""

from django.contrib import admin

from tracker import clock
from tracker.models import (
    AccessLink,
    AuditAction,
    AuditActor,
    AuditEvent,
    Clinic,
    FollowUp,
    Membership,
    NeedledSite,
    NeedlingSession,
    Patient,
    SymptomReport,
    WarningReport,
)
from tracker.security import audit


class NoDeleteInline:
    """An inline of patient data: rows are shown and fixed, never deleted."""

    def has_delete_permission(self, request, obj=None):
        return False


class PatientDataAdmin(admin.ModelAdmin):
    """The admin of a model holding patient data: audited, and no deleting.

    ``patient_path`` is the way from a row to its patient, e.g.
    ``"session__patient"`` (empty for a patient).
    """

    patient_path = ""

    def has_delete_permission(self, request, obj=None):
        return False

    def _patient(self, obj):
        for name in filter(None, self.patient_path.split("__")):
            obj = getattr(obj, name)
        return obj

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Every display of a stored row's page: opened, refused on save, or read-only.
        if obj is not None and obj.pk is not None:
            audit.record(
                request,
                action=AuditAction.VIEW,
                patient=self._patient(obj),
                obj=obj,
                detail="admin",
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            self._record_list(request, changelist.result_list)
        return response

    def _record_list(self, request, rows):
        """One "view" per patient whose rows the list shows: one query, one INSERT."""
        path = f"{self.patient_path}__" if self.patient_path else ""
        patients = (
            self.model._default_manager.filter(pk__in=[row.pk for row in rows])
            .order_by()
            .values_list(f"{path}pk", f"{path}clinic_id")
            .distinct()
        )
        now, ip = clock.now(), audit.client_ip(request)
        AuditEvent.objects.bulk_create(
            AuditEvent(
                clinic_id=clinic_id,
                actor=AuditActor.STAFF,
                user=request.user,
                action=AuditAction.VIEW,
                patient_id=patient_id,
                object_type=self.model._meta.model_name,
                at=now,
                ip=ip,
                detail="admin list",
            )
            for patient_id, clinic_id in patients
        )

    def log_addition(self, request, obj, message):
        audit.record(
            request, action=AuditAction.CREATE, patient=self._patient(obj), obj=obj, detail="admin"
        )
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        audit.record(
            request, action=AuditAction.UPDATE, patient=self._patient(obj), obj=obj, detail="admin"
        )
        return super().log_change(request, obj, message)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "time_zone",
        "phone",
        "emergency_number",
        "soreness_threshold",
        "require_2fa_for_leads",
    ]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "clinic", "role"]
    list_filter = ["role", "clinic"]
    search_fields = ["user__username", "user__email", "clinic__name"]
    autocomplete_fields = ["user", "clinic"]


@admin.register(Patient)
class PatientAdmin(PatientDataAdmin):
    list_display = [
        "display_name",
        "reference",
        "clinic",
        "language",
        "reminder_channel",
        "reminders_consent",
        "created_at",
    ]
    list_filter = ["clinic", "language", "reminder_channel", "reminders_consent"]
    search_fields = ["display_name", "reference"]
    list_select_related = ["clinic"]


class NeedledSiteInline(NoDeleteInline, admin.TabularInline):
    model = NeedledSite
    extra = 0


class FollowUpInline(NoDeleteInline, admin.TabularInline):
    model = FollowUp
    extra = 0
    fields = ["time_point", "due_at", "opens_at", "closes_at", "answered_at", "reminder_sent_at"]
    readonly_fields = fields


@admin.register(NeedlingSession)
class NeedlingSessionAdmin(PatientDataAdmin):
    patient_path = "patient"
    list_display = [
        "performed_at",
        "patient",
        "therapist",
        "pre_pain",
        "chest_wall_area",
        "anticoagulants",
        "lung_condition",
    ]
    list_filter = ["clinic", "chest_wall_area", "anticoagulants", "lung_condition", "therapist"]
    date_hierarchy = "performed_at"
    search_fields = ["patient__display_name", "patient__reference"]
    list_select_related = ["patient", "therapist"]
    raw_id_fields = ["patient"]
    inlines = [NeedledSiteInline, FollowUpInline]

    def has_add_permission(self, request):
        # Sessions are recorded in the app, which plans their check-ins and
        # issues the patient's link; here they can only be looked at or fixed.
        return False


@admin.register(NeedledSite)
class NeedledSiteAdmin(PatientDataAdmin):
    patient_path = "session__patient"
    list_display = ["session", "muscle", "side", "insertions", "technique", "twitch_band"]
    list_filter = ["muscle", "technique", "twitch_band", "side"]
    raw_id_fields = ["session"]


@admin.register(FollowUp)
class FollowUpAdmin(PatientDataAdmin):
    patient_path = "session__patient"
    list_display = [
        "session",
        "time_point",
        "due_at",
        "closes_at",
        "answered_at",
        "reminder_sent_at",
    ]
    list_filter = ["time_point", "clinic"]
    date_hierarchy = "due_at"
    raw_id_fields = ["session"]

    def has_add_permission(self, request):
        # Check-ins are planned with their session (tracker.services.scheduling).
        return False


@admin.register(SymptomReport)
class SymptomReportAdmin(PatientDataAdmin):
    patient_path = "follow_up__session__patient"
    list_display = ["follow_up", "soreness", "twitching", "bruising", "submitted_at"]
    list_filter = [
        "follow_up__time_point",
        "twitching",
        "bruising",
        "rf_breathing",
        "follow_up__clinic",
    ]
    date_hierarchy = "submitted_at"
    raw_id_fields = ["follow_up"]
    readonly_fields = ["idempotency_key", "submitted_at"]


@admin.register(WarningReport)
class WarningReportAdmin(PatientDataAdmin):
    patient_path = "session__patient"
    list_display = ["session", "reported_at", "rf_breathing", "rf_cough", "rf_infection"]
    list_filter = ["rf_breathing", "rf_cough", "rf_infection", "session__clinic"]
    date_hierarchy = "reported_at"
    raw_id_fields = ["session"]
    readonly_fields = ["idempotency_key", "reported_at"]

    def has_add_permission(self, request):
        # Sent by the patient (tracker.services.reports.report_warning), with its alert.
        return False


@admin.register(AccessLink)
class AccessLinkAdmin(PatientDataAdmin):
    patient_path = "session__patient"
    list_display = ["session", "created_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    raw_id_fields = ["session"]
    # The hash and nonce are what open the link; they are never shown.
    exclude = ["nonce", "token_hash"]
    readonly_fields = ["created_at", "expires_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only (see ``tracker.models.audit``).

    No add, change or delete permission for anyone, superusers included, so
    the admin offers no form, no save button and no delete action.
    """

    list_display = [
        "at",
        "clinic",
        "user",
        "action",
        "patient",
        "object_type",
        "object_id",
        "ip",
        "detail",
    ]
    list_filter = ["action", "clinic"]
    date_hierarchy = "at"
    search_fields = ["patient__reference", "user__username"]
    list_select_related = ["clinic", "user", "patient"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
