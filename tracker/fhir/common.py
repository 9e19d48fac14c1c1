"""What every FHIR resource the app writes shares: addresses, ids, references, codes.

Everything the app publishes lives under one base address, ``<SITE_URL>/fhir``:
the check-in Questionnaire at ``<base>/Questionnaire/check-in``, the app's own
code systems at ``<base>/CodeSystem/<name>`` and its extensions at
``<base>/StructureDefinition/<name>``. Only the Questionnaire is served; the
other addresses name things and need not open.

A resource's id is a UUID made from the site's address, the resource type
and the row's primary key (UUID version 5): the same row exported twice has
the same id, so a receiving system can update instead of duplicating, and
the database's sequence numbers are not handed out.
"""

import uuid
from functools import cache, lru_cache

from tracker import site

BASE_PATH = "/fhir"
FHIR_VERSION = "4.0.1"
JSON_TYPE = "application/fhir+json"
NDJSON_TYPE = "application/fhir+ndjson"

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"


def base() -> str:
    """The address everything the app publishes in FHIR hangs from."""
    return site.absolute_url(BASE_PATH)


def code_system(name: str) -> str:
    return f"{base()}/CodeSystem/{name}"


@cache
def _namespace(address: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, address)


@lru_cache(maxsize=4096)
def _resource_id(address: str, kind: str, key) -> str:
    return str(uuid.uuid5(_namespace(address), f"{kind}/{key}"))


def resource_id(kind: str, key) -> str:
    """The id of the resource ``kind`` made from row ``key`` (see the module's docstring).

    The last few thousand are kept: an export names the same patient and
    session from each of their check-ins, which come one after the other.
    """
    return _resource_id(base(), kind, key)


class Refs:
    """How one resource points at another.

    Inside a Bundle each entry's ``fullUrl`` is ``urn:uuid:<id>`` and a
    reference names it so; in the bulk files a reference is the relative
    ``Type/<id>`` the Bulk Data format expects. The ids are the same either way.
    """

    def __init__(self, *, bundle: bool):
        self.bundle = bundle
        # Read once: an export names millions of resources and codes.
        self.base = base()

    def id(self, kind: str, key) -> str:
        """The id of the resource ``kind`` made from row ``key``."""
        return _resource_id(self.base, kind, key)

    def system(self, name: str) -> str:
        """The address of the app's code system ``name``."""
        return f"{self.base}/CodeSystem/{name}"

    def url(self, kind: str, key) -> str:
        rid = self.id(kind, key)
        return f"urn:uuid:{rid}" if self.bundle else f"{kind}/{rid}"

    def __call__(self, kind: str, key) -> dict:
        return {"reference": self.url(kind, key)}
