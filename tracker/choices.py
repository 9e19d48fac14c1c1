"""The fixed lists the app records, with the clinical wording of docs/clinical.md.

Values are stored; labels are shown. Changing a value needs a data migration.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    THERAPIST = "therapist", _("Therapist")
    LEAD = "lead", _("Clinic lead")


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Español"


class ReminderChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message (SMS)")
    NONE = "none", _("No reminders")


class Muscle(models.TextChoices):
    """Muscles commonly needled, grouped by body region.

    The ``CHEST_WALL`` set below marks the ones over the chest wall, neck,
    shoulder girdle or upper back: the pneumothorax areas (docs/clinical.md, section 6).
    """

    MASSETER = "masseter", _("Masseter")
    TEMPORALIS = "temporalis", _("Temporalis")
    SUBOCCIPITALS = "suboccipitals", _("Suboccipitals")
    SPLENIUS_CAPITIS = "splenius_capitis", _("Splenius capitis")
    STERNOCLEIDOMASTOID = "sternocleidomastoid", _("Sternocleidomastoid")
    SCALENES = "scalenes", _("Scalenes")
    UPPER_TRAPEZIUS = "upper_trapezius", _("Upper trapezius")
    MIDDLE_TRAPEZIUS = "middle_trapezius", _("Middle / lower trapezius")
    LEVATOR_SCAPULAE = "levator_scapulae", _("Levator scapulae")
    RHOMBOIDS = "rhomboids", _("Rhomboids")
    SUPRASPINATUS = "supraspinatus", _("Supraspinatus")
    INFRASPINATUS = "infraspinatus", _("Infraspinatus")
    TERES = "teres", _("Teres major / minor")
    SERRATUS_ANTERIOR = "serratus_anterior", _("Serratus anterior")
    PECTORALIS_MAJOR = "pectoralis_major", _("Pectoralis major")
    PECTORALIS_MINOR = "pectoralis_minor", _("Pectoralis minor")
    THORACIC_PARASPINALS = "thoracic_paraspinals", _("Thoracic paraspinals")
    DELTOID = "deltoid", _("Deltoid")
    FOREARM_EXTENSORS = "forearm_extensors", _("Forearm extensors")
    FOREARM_FLEXORS = "forearm_flexors", _("Forearm flexors")
    LUMBAR_MULTIFIDUS = "lumbar_multifidus", _("Lumbar multifidus")
    QUADRATUS_LUMBORUM = "quadratus_lumborum", _("Quadratus lumborum")
    GLUTEUS_MEDIUS = "gluteus_medius", _("Gluteus medius")
    GLUTEUS_MINIMUS = "gluteus_minimus", _("Gluteus minimus")
    PIRIFORMIS = "piriformis", _("Piriformis")
    QUADRICEPS = "quadriceps", _("Quadriceps")
    HAMSTRINGS = "hamstrings", _("Hamstrings")
    GASTROCNEMIUS = "gastrocnemius", _("Gastrocnemius")
    SOLEUS = "soleus", _("Soleus")
    TIBIALIS_ANTERIOR = "tibialis_anterior", _("Tibialis anterior")
    OTHER = "other", _("Other (name it in the notes)")


CHEST_WALL_MUSCLES = frozenset(
    {
        Muscle.SCALENES,
        Muscle.STERNOCLEIDOMASTOID,
        Muscle.UPPER_TRAPEZIUS,
        Muscle.MIDDLE_TRAPEZIUS,
        Muscle.LEVATOR_SCAPULAE,
        Muscle.RHOMBOIDS,
        Muscle.SUPRASPINATUS,
        Muscle.INFRASPINATUS,
        Muscle.TERES,
        Muscle.SERRATUS_ANTERIOR,
        Muscle.PECTORALIS_MAJOR,
        Muscle.PECTORALIS_MINOR,
        Muscle.THORACIC_PARASPINALS,
    }
)


class Side(models.TextChoices):
    LEFT = "left", _("Left")
    RIGHT = "right", _("Right")
    BOTH = "both", _("Both sides")
    MIDLINE = "midline", _("Midline")


class Technique(models.TextChoices):
    DEEP_PISTONING = "deep_pistoning", _("Deep, pistoning")
    DEEP_STATIC = "deep_static", _("Deep, static")
    SUPERFICIAL = "superficial", _("Superficial")
    ELECTRICAL = "electrical", _("Electrical stimulation")


class TwitchBand(models.TextChoices):
    """Local twitch responses seen at a site, as a count band (docs/clinical.md, section 3)."""

    NONE = "none", _("None")
    FEW = "1-2", _("1–2")
    SEVERAL = "3-5", _("3–5")
    MANY = "6+", _("6 or more")


class TimePoint(models.IntegerChoices):
    """When a follow-up is asked, as hours after the session."""

    IN_CLINIC = 0, _("Right after the session")
    H6 = 6, _("6 hours")
    H24 = 24, _("24 hours")
    H48 = 48, _("48 hours")
    H72 = 72, _("72 hours")


# How a check-in is named in a sentence ("Your 24-hour check-in is open").
CHECK_IN_NAMES = {
    TimePoint.IN_CLINIC: _("in-clinic check-in"),
    TimePoint.H6: _("6-hour check-in"),
    TimePoint.H24: _("24-hour check-in"),
    TimePoint.H48: _("48-hour check-in"),
    TimePoint.H72: _("72-hour check-in"),
}


class TwitchingFelt(models.TextChoices):
    """Twitching or cramping the patient felt since the last check-in."""

    NONE = "none", _("None")
    MILD = "mild", _("Mild")
    STRONG = "strong", _("Strong")


class Pgic(models.IntegerChoices):
    """Patient Global Impression of Change, about the original complaint (7 points;
    docs/clinical.md, section 2). Asked at the last planned check-in."""

    VERY_MUCH_BETTER = 1, _("Very much better")
    MUCH_BETTER = 2, _("Much better")
    A_LITTLE_BETTER = 3, _("A little better")
    NO_CHANGE = 4, _("No change")
    A_LITTLE_WORSE = 5, _("A little worse")
    MUCH_WORSE = 6, _("Much worse")
    VERY_MUCH_WORSE = 7, _("Very much worse")


class BruiseBand(models.TextChoices):
    """Bruise size bands borrowed from injection-site grading (docs/clinical.md, section 2)."""

    NONE = "none", _("No bruise")
    UNDER_2_5 = "lt2.5", _("Smaller than a coin (under 2.5 cm)")
    FROM_2_5_TO_5 = "2.5-5", _("About a golf ball (2.5–5 cm)")
    FROM_5_TO_10 = "5-10", _("About a palm (5–10 cm)")
    OVER_10 = "10+", _("Larger than a palm (10 cm or more)")


class Interference(models.TextChoices):
    """How much soreness got in the way of usual activities (PRO-CTCAE wording)."""

    NOT_AT_ALL = "not_at_all", _("Not at all")
    A_LITTLE = "a_little", _("A little bit")
    SOMEWHAT = "somewhat", _("Somewhat")
    QUITE_A_BIT = "quite_a_bit", _("Quite a bit")
    VERY_MUCH = "very_much", _("Very much")


class AfterEffect(models.TextChoices):
    """Other after-effects asked about. Each value is a SymptomReport field."""

    BLEEDING = "bleeding", _("Bleeding where the needle went in")
    DROWSINESS = "drowsiness", _("Drowsiness or tiredness")
    HEADACHE = "headache", _("Headache")
    NAUSEA = "nausea", _("Feeling sick (nausea)")
    DIZZINESS = "dizziness", _("Feeling faint or dizzy")
    AGGRAVATION = "aggravation", _("My original pain or problem is worse")


class RedFlag(models.TextChoices):
    """Warning signs that need urgent help. Each value is a SymptomReport field."""

    BREATHING = "rf_breathing", _("New shortness of breath, chest pain, or pain when breathing in")
    COUGH = "rf_cough", _("A new dry cough, or coughing up blood")
    INFECTION = (
        "rf_infection",
        _("Spreading redness or swelling (5 cm or more), pus, or a temperature above 38 °C"),
    )
    HEAVY_BLEEDING = "rf_bleeding", _("Bleeding that does not stop when you press on it")
    FAINTING = "rf_fainting", _("Fainting since you left the clinic")
    NUMBNESS = "rf_numbness", _("New numbness or weakness that does not go away")
