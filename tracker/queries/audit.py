"""The audit trail in words: what each event says to a clinic lead, on the page and in the CSV.

An event stores codes (its action, the page's URL name or a word or two in
``detail``, the kind of row); a lead reads a phrase such as "viewed the
patient page". The phrase is made when the trail is read, in the reader's
language. Every action has a phrase of its own (``ACTION_WORDS``); where the
detail says more (which page, which download, which change of a clinic's
staff), ``DETAIL_WORDS`` says it instead.
"""

from django.utils.translation import gettext_lazy as _

from tracker.models import AuditAction

# One phrase per action: what is said when the detail adds nothing known.
ACTION_WORDS = {
    AuditAction.VIEW: _("viewed the patient's data"),
    AuditAction.CREATE: _("created a record"),
    AuditAction.UPDATE: _("changed a record"),
    AuditAction.ACKNOWLEDGE: _("acted on an alert"),
    AuditAction.EXPORT: _("downloaded data"),
    AuditAction.ERASE: _("erased the patient's personal details"),
    AuditAction.ISSUE_LINK: _("issued a patient link"),
    AuditAction.REVOKE_LINK: _("revoked a patient link"),
    AuditAction.ENTERED_IN_ERROR: _("marked a session entered in error"),
    AuditAction.SEND_LINK: _("sent the patient their link"),
}

# (action, detail) → the phrase; the detail is the page's URL name for reads.
DETAIL_WORDS = {
    (AuditAction.VIEW, "patient_detail"): _("viewed the patient page"),
    (AuditAction.VIEW, "visit_summary"): _("viewed the visit summary"),
    (AuditAction.VIEW, "patient_chart"): _("viewed the patient's soreness chart"),
    (AuditAction.VIEW, "patient_record"): _("viewed the printable record"),
    (AuditAction.VIEW, "patient_erase"): _("opened the erasure page"),
    (AuditAction.VIEW, "session_detail"): _("viewed a session page"),
    (AuditAction.VIEW, "session_chart"): _("viewed a session's soreness chart"),
    (AuditAction.VIEW, "patient_edit"): _("opened the patient's details to edit them"),
    (AuditAction.VIEW, "session_correct"): _("opened a session to correct it"),
    (AuditAction.VIEW, "link_card"): _("opened the patient's link card"),
    (AuditAction.VIEW, "session_enter_in_error"): _("opened a session to mark it entered in error"),
    (AuditAction.VIEW, "admin"): _("opened the record in the admin"),
    (AuditAction.VIEW, "admin list"): _("saw the record in an admin list"),
    (AuditAction.EXPORT, "patient_export"): _("downloaded the record"),
    (AuditAction.EXPORT, "patient_fhir"): _("downloaded the record as FHIR"),
    (AuditAction.EXPORT, "clinic_fhir_export"): _("downloaded the clinic's records as FHIR"),
    (AuditAction.EXPORT, "export_fhir"): _("exported the clinic's records as FHIR"),
    (AuditAction.EXPORT, "audit_csv"): _("downloaded the audit trail"),
    (AuditAction.CREATE, "admin"): _("added the record in the admin"),
    (AuditAction.UPDATE, "admin"): _("changed the record in the admin"),
    (AuditAction.UPDATE, "own settings"): _("changed their own settings"),
    (AuditAction.UPDATE, "reminders on"): _("turned reminders on"),
    (AuditAction.UPDATE, "reminders off"): _("turned reminders off"),
    (AuditAction.UPDATE, "language en"): _("chose English"),
    (AuditAction.UPDATE, "language es"): _("chose Spanish"),
    (AuditAction.UPDATE, "clinic settings"): _("changed the clinic's settings"),
    (AuditAction.CREATE, "staff invited"): _("invited a member of staff"),
    (AuditAction.UPDATE, "invitation sent again"): _("sent an invitation again"),
    (AuditAction.UPDATE, "password set"): _("set their password from an invitation"),
    (AuditAction.UPDATE, "role lead"): _("made a member of staff a clinic lead"),
    (AuditAction.UPDATE, "role therapist"): _("made a member of staff a therapist"),
    (AuditAction.UPDATE, "deactivated"): _("deactivated a staff account"),
    (AuditAction.UPDATE, "reactivated"): _("reactivated a staff account"),
    (AuditAction.ACKNOWLEDGE, "contact attempt"): _("recorded a try to reach the patient"),
    (AuditAction.UPDATE, "session corrected"): _("corrected a session"),
    (AuditAction.ACKNOWLEDGE, "session entered in error"): _(
        "closed an alert of a session entered in error"
    ),
    (AuditAction.UPDATE, "phone refused by SMS provider"): _(
        "recorded that the text provider refused the patient's number"
    ),
}

# (action, kind of row) → the phrase, for changes recorded with no detail.
OBJECT_WORDS = {
    (AuditAction.CREATE, "patient"): _("added the patient"),
    (AuditAction.CREATE, "needlingsession"): _("recorded a session"),
    (AuditAction.UPDATE, "patient"): _("changed the patient's details"),
    (AuditAction.ACKNOWLEDGE, "alert"): _("acknowledged an alert"),
}


def describe(action: str, detail: str = "", object_type: str = "") -> str:
    """The phrase for one event, in the active language."""
    words = (
        DETAIL_WORDS.get((action, detail))
        or OBJECT_WORDS.get((action, object_type))
        or ACTION_WORDS.get(action)
    )
    return str(words) if words is not None else action


def erased_name(display_name: str) -> str:
    """An erased patient's name as the reader's language says it: "Erased patient 3fa9c1".

    ``services.erase_patient`` stores "Erased patient <tag>"; only the tag is kept.
    """
    tag = display_name.rsplit(" ", 1)[-1]
    return str(_("Erased patient %(tag)s") % {"tag": tag})
