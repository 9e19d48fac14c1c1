"""Writes that touch several rows, each atomic and validated (keyword arguments only).

One module per kind of change; the functions views and commands call are
named here, so ``services.record_session(...)`` reads the same from any caller.
"""

from tracker.services.alerts import (
    AlreadyAcknowledged,
    acknowledge_alert,
    acknowledge_many,
    act_on_alert,
)
from tracker.services.clinic import (
    accept_invitation,
    change_role,
    invite_staff,
    resend_invitation,
    save_clinic_settings,
    set_active,
)
from tracker.services.links import (
    LinkReplacement,
    LinkSendLimitReached,
    find_access_link,
    issue_access_link,
    lookup_access_link,
    replace_access_link,
    send_access_link,
    send_channels,
    sends_left,
)
from tracker.services.patients import (
    add_patient,
    erase_patient,
    has_reminder_address,
    possible_duplicates,
    record_phone_refused,
    set_language,
    set_reminders_consent,
    update_patient,
)
from tracker.services.reports import (
    FollowUpNotOpen,
    SessionClosed,
    report_warning,
    report_warning_signs,
    submit_report,
)
from tracker.services.sessions import (
    FollowUpOver,
    correct_session,
    mark_entered_in_error,
    record_session,
)
from tracker.services.staff import save_staff_settings

__all__ = [
    "accept_invitation",
    "change_role",
    "invite_staff",
    "resend_invitation",
    "save_clinic_settings",
    "set_active",
    "AlreadyAcknowledged",
    "acknowledge_many",
    "act_on_alert",
    "FollowUpNotOpen",
    "SessionClosed",
    "FollowUpOver",
    "correct_session",
    "mark_entered_in_error",
    "LinkReplacement",
    "LinkSendLimitReached",
    "acknowledge_alert",
    "add_patient",
    "erase_patient",
    "find_access_link",
    "has_reminder_address",
    "issue_access_link",
    "lookup_access_link",
    "possible_duplicates",
    "record_phone_refused",
    "record_session",
    "replace_access_link",
    "save_staff_settings",
    "send_access_link",
    "send_channels",
    "sends_left",
    "set_language",
    "set_reminders_consent",
    "report_warning",
    "report_warning_signs",
    "submit_report",
    "update_patient",
]
