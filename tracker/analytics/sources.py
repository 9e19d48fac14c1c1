"""Published after-effect rates the clinic's own rates are read against (docs/clinical.md)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# ---------------------------------------------------------------------------
# Published reference rates (docs/clinical.md, section 7)


@dataclass(frozen=True)
class Source:
    key: str
    short: str
    citation: str
    basis: str


BRADY_2014 = Source(
    key="brady2014",
    short="Brady et al. 2014",
    citation=(
        "Brady S, McEvoy J, Dommerholt J, Doody C. Adverse events following trigger point "
        "dry needling: a prospective survey of chartered physiotherapists. "
        "J Man Manip Ther 2014;22(3):134–140."
    ),
    basis=(
        "39 physiotherapists, 7,629 treatments; adverse events per 100 treatments as the "
        "therapists saw them, pain during and after needling included."
    ),
)
BOYCE_2020 = Source(
    key="boyce2020",
    short="Boyce et al. 2020",
    citation=(
        "Boyce D, Wempe H, Campbell C, et al. Adverse events associated with therapeutic "
        "dry needling. Int J Sports Phys Ther 2020;15(1):103–113."
    ),
    basis=(
        "420 physical therapists, about 20,464 sessions; the share of sessions with any "
        "minor adverse event (pain during needling included), and 20 major events."
    ),
)
SOURCES = (BRADY_2014, BOYCE_2020)


@dataclass(frozen=True)
class PublishedRate:
    """A published after-effect rate, in % of treatments, quoted as published.

    ``drawn``: whether it counts what the clinic's rate counts closely enough
    to be drawn as a reference line beside it. The others are listed in the
    table, with what they count, and never drawn.
    """

    effect: str
    source: Source
    percent: Decimal
    label: str
    drawn: bool = True


# Brady's 2.19 % "pain after treatment" is deliberately absent: it was counted by
# therapists, and patient-reported soreness after needling is near universal.
# The "any" rates count pain during needling, which the app does not ask about,
# and leave out what it does (dizziness): listed, not drawn. Serious events are
# confirmed events, not warning signs reported: listed beside them, not drawn.
PUBLISHED_RATES = (
    PublishedRate("bruising", BRADY_2014, Decimal("7.55"), "Bruising"),
    PublishedRate("bleeding", BRADY_2014, Decimal("4.65"), "Bleeding"),
    PublishedRate("aggravation", BRADY_2014, Decimal("0.88"), "Aggravation of symptoms"),
    PublishedRate("any_minor", BRADY_2014, Decimal("19.18"), "Any mild adverse event", drawn=False),
    PublishedRate(
        "warning_sign",
        BRADY_2014,
        Decimal("0.04"),
        "Significant adverse event (upper estimate)",
        drawn=False,
    ),
    PublishedRate("bruising", BOYCE_2020, Decimal("7.7"), "Bruising"),
    PublishedRate("bleeding", BOYCE_2020, Decimal("16"), "Bleeding"),
    PublishedRate("any_minor", BOYCE_2020, Decimal("36.7"), "Any minor adverse event", drawn=False),
    PublishedRate(
        "warning_sign", BOYCE_2020, Decimal("0.1"), "Major adverse event (under)", drawn=False
    ),
)


def published_rate(effect: str, source: Source) -> Decimal | None:
    for rate in PUBLISHED_RATES:
        if rate.effect == effect and rate.source == source:
            return rate.percent
    return None
