"""The patient's reminder page: stop check-in reminders in one tap, or turn them back on.

Reached from the link at the foot of every reminder, with the same token as
the check-in, through the same ``patient_link`` gate (404 for unknown links,
no referrer, no CSRF cookie).
"""

from django.shortcuts import redirect, render

from tracker import services
from tracker.views.patient import patient_link


@patient_link
def stop_reminders(request, link):
    patient = link.session.patient
    can_resume = services.has_reminder_address(patient)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "stop":
            services.set_reminders_consent(patient=patient, consent=False)
        elif action == "resume" and can_resume:
            services.set_reminders_consent(patient=patient, consent=True)
        # Back to a GET, so that reloading the page sends nothing again.
        return redirect("patient:stop_reminders", token=link.token)
    context = {
        "token": link.token,
        "clinic": patient.clinic,
        "reminders_on": patient.reminders_consent,
        "channel": patient.get_reminder_channel_display(),
        "can_resume": can_resume,
    }
    return render(request, "patient/reminders.html", context)
