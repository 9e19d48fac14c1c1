"""Phone numbers: checked and stored in international (E.164) form.

A number typed as the patient says it ("07700 900123") is read in the
clinic's country, found from the clinic's time zone: each IANA zone belongs
to one country in the time-zone database's ``zone.tab`` (Europe/London is GB,
America/Chicago is US, Europe/Madrid is ES). A clinic's zone is already how
it tells the app where it is, so no second setting can disagree with it. A
number written with its country code (+34…) is read as such anywhere.

Nothing here reads the database: the migration that normalised the numbers
stored before this uses the same functions.
"""

import functools
import importlib.resources
import zoneinfo

import phonenumbers


@functools.cache
def _zone_countries() -> dict[str, str]:
    """IANA zone → ISO 3166 country code, from the zone.tab of the time-zone data in use."""
    text = None
    try:
        text = importlib.resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        for root in zoneinfo.TZPATH:
            try:
                with open(f"{root}/zone.tab", encoding="utf-8") as file:
                    text = file.read()
                break
            except OSError:
                continue
    countries = {}
    for line in (text or "").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) >= 3:
            countries[fields[2]] = fields[0]
    return countries


def region_for_zone(time_zone: str) -> str | None:
    """The country (ISO 3166 alpha-2) of an IANA time zone, or None (UTC, Etc/…)."""
    return _zone_countries().get(time_zone)


def to_e164(value: str, region: str | None) -> str | None:
    """``value`` in E.164 (+447700900123) when it is a valid number, read in ``region``; else None."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def readable(value: str) -> str:
    """An E.164 number as people write it internationally (+44 7700 900123); else as stored."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
