"""A clinic's data as FHIR Bulk Data files: newline-delimited JSON, one file per resource type.

``ndjson(clinic, since=...)`` gives, for each resource type, the lines of its
file (``Patient.ndjson``, ``Procedure.ndjson``…): one resource per line,
references relative (``Patient/<id>``), as the Bulk Data format has them.
``write_directory`` puts them in a folder (``manage.py export_fhir``);
``zip_stream`` makes a zip archive of them as it goes (the lead's download).
Both add ``manifest.json``, shaped like a Bulk Data manifest: when the
export began (``transactionTime``, the ``--since`` of the next export), and
each file with its count (``url`` is the file's name in the folder).

Rows are read ``chunk_size`` at a time with ``QuerySet.iterator``, each
chunk of sessions' sites in one query with it: memory holds one chunk,
however large the clinic.

**Since.** Without a date, everything of the clinic. With one, the sessions
performed since, or with a check-in answered or warning signs sent since,
with all their check-ins and warning reports, their patients and
therapists, and patients added since: a daily export
picks up the answers that came in after the session's own day, and each
export's references resolve inside it.
"""

import json
import zipfile
from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db.models import Exists, F, OuterRef, Q

from tracker import clock
from tracker.fhir import common, questionnaire, resources
from tracker.models import NeedledSite, NeedlingSession, Patient, SymptomReport, WarningReport

RESOURCE_TYPES = (
    "Questionnaire",
    "Patient",
    "Practitioner",
    "Procedure",
    "QuestionnaireResponse",
    "Observation",
)
CHUNK_SIZE = 2000
# Orders the clinic's indexes give as they are read, so that the database hands
# the rows on as it finds them instead of sorting them all before the first:
# sessions by time (session_clinic_time_idx); reports as the check-ins' clinic
# index reads them (no ORDER BY: sorting by any column of the report's own
# would sort them all).
SESSION_ORDER = ("performed_at", "pk")
REPORT_ORDER = ()
FLUSH_BYTES = 256 * 1024  # how much of the zip is handed on at a time


SITE_FIELDS = ("muscle", "side", "insertions", "technique", "twitch_band")
Site = namedtuple("Site", SITE_FIELDS)


def _chunks(rows, size: int):
    """The rows of an iterator in lists of ``size``."""
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _line(resource: dict) -> bytes:
    return (json.dumps(resource, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


@dataclass
class ClinicExport:
    """What one export of ``clinic`` holds; ``since`` is an instant or None."""

    clinic: object
    since: datetime | None = None
    chunk_size: int = CHUNK_SIZE

    def sessions(self):
        sessions = NeedlingSession.objects.filter(clinic=self.clinic)
        if self.since is None:
            return sessions
        answered_since = SymptomReport.objects.filter(
            follow_up__session=OuterRef("pk"), submitted_at__gte=self.since
        )
        warned_since = WarningReport.objects.filter(
            session=OuterRef("pk"), reported_at__gte=self.since
        )
        return sessions.filter(
            Q(performed_at__gte=self.since) | Exists(answered_since) | Exists(warned_since)
        )

    def patients(self):
        patients = Patient.objects.filter(clinic=self.clinic)
        if self.since is None:
            return patients
        return patients.filter(
            Q(created_at__gte=self.since) | Q(pk__in=self.sessions().values("patient_id"))
        )

    def reports(self):
        if self.since is None:
            reports = SymptomReport.objects.filter(follow_up__clinic=self.clinic)
        else:
            reports = SymptomReport.objects.filter(follow_up__session__in=self.sessions())
        return reports.annotate(
            fhir_patient_id=F("follow_up__session__patient_id"),
            fhir_session_id=F("follow_up__session_id"),
        )

    def warning_reports(self):
        if self.since is None:
            warnings = WarningReport.objects.filter(session__clinic=self.clinic)
        else:
            warnings = WarningReport.objects.filter(session__in=self.sessions())
        return warnings.annotate(fhir_patient_id=F("session__patient_id"))

    # One generator per file: each reads its rows only when it is written.

    def _questionnaires(self, refs):
        yield questionnaire.questionnaire()

    def _patients(self, refs):
        for patient in self.patients().order_by("pk").iterator(chunk_size=self.chunk_size):
            yield resources.patient(patient, refs)

    def _practitioners(self, refs):
        users = get_user_model().objects.filter(pk__in=self.sessions().values("therapist_id"))
        for user in users.order_by("pk").iterator(chunk_size=self.chunk_size):
            yield resources.practitioner(user, refs)

    def _procedures(self, refs):
        sessions = self.sessions().order_by(*SESSION_ORDER).iterator(chunk_size=self.chunk_size)
        for chunk in _chunks(sessions, self.chunk_size):
            # The chunk's sites in one query, as plain rows: cheaper than models.
            sites = {}
            rows = (
                NeedledSite.objects.filter(session__in=chunk)
                .order_by("pk")
                .values_list("session_id", *SITE_FIELDS)
            )
            for session_id, *values in rows:
                sites.setdefault(session_id, []).append(Site(*values))
            for session in chunk:
                yield resources.procedure(session, sites.get(session.pk, []), refs)

    def _responses(self, refs):
        answering = questionnaire.answering()
        for report in self.reports().order_by(*REPORT_ORDER).iterator(chunk_size=self.chunk_size):
            yield resources.questionnaire_response(
                report,
                patient_id=report.fhir_patient_id,
                session_id=report.fhir_session_id,
                answering=answering,
                refs=refs,
            )

    def _observations(self, refs):
        sessions = (
            self.sessions()
            .only("id", "patient_id", "therapist_id", "performed_at", "pre_pain")
            .order_by(*SESSION_ORDER)
        )
        for session in sessions.iterator(chunk_size=self.chunk_size):
            yield resources.pain_before_observation(session, refs)
        scores = (
            self.reports()
            .order_by(*REPORT_ORDER)
            .values_list("pk", "soreness", "submitted_at", "fhir_patient_id", "fhir_session_id")
        )
        for report_id, soreness, submitted_at, patient_id, session_id in scores.iterator(
            chunk_size=self.chunk_size
        ):
            yield resources.soreness_observation(
                report_id=report_id,
                soreness=soreness,
                submitted_at=submitted_at,
                patient_id=patient_id,
                session_id=session_id,
                refs=refs,
            )
        warnings = self.warning_reports().order_by("pk").iterator(chunk_size=self.chunk_size)
        for warning in warnings:
            yield resources.warning_observation(
                warning=warning,
                patient_id=warning.fhir_patient_id,
                session_id=warning.session_id,
                refs=refs,
            )

    def ndjson(self):
        """``(resource type, its lines)`` for each file, in RESOURCE_TYPES order."""
        refs = common.Refs(bundle=False)
        makers = (
            self._questionnaires,
            self._patients,
            self._practitioners,
            self._procedures,
            self._responses,
            self._observations,
        )
        for kind, make in zip(RESOURCE_TYPES, makers, strict=True):
            yield kind, (_line(resource) for resource in make(refs))


def file_name(kind: str) -> str:
    return f"{kind}.ndjson"


def manifest(*, began: datetime, counts: dict, request: str) -> dict:
    """A Bulk Data manifest for the files written: ``url`` is each file's name, and
    ``request`` says what asked for them (the download's address, the command)."""
    return {
        "transactionTime": clock.iso_utc(began),
        "request": request,
        "requiresAccessToken": False,
        "output": [
            {"type": kind, "url": file_name(kind), "count": n} for kind, n in counts.items()
        ],
        "error": [],
    }


def write_directory(export: ClinicExport, directory: Path, *, request: str) -> dict:
    """Write each file and the manifest into ``directory``; return the count per type."""
    directory.mkdir(parents=True, exist_ok=True)
    began = clock.now()
    counts = {}
    for kind, lines in export.ndjson():
        count = 0
        with open(directory / file_name(kind), "wb") as file:
            for line in lines:
                file.write(line)
                count += 1
        counts[kind] = count
    text = json.dumps(manifest(began=began, counts=counts, request=request), indent=2)
    (directory / "manifest.json").write_text(text + "\n", encoding="utf-8")
    return counts


class _Sink:
    """Where the zip is written: bytes collected until they are handed on."""

    def __init__(self):
        self.parts, self.size = [], 0

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self):
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts, self.size = [], 0
        return data


def zip_stream(export: ClinicExport, *, request: str):
    """The files and the manifest as a zip archive, yielded a piece at a time.

    zipfile writes to a stream it cannot seek in with a data descriptor after
    each file, so nothing is held back until the end; zip64, as a large
    clinic's files may pass 4 GB.
    """
    sink = _Sink()
    began = clock.now()
    counts = {}
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for kind, lines in export.ndjson():
            count = 0
            with archive.open(file_name(kind), "w", force_zip64=True) as member:
                for line in lines:
                    member.write(line)
                    count += 1
                    if sink.size >= FLUSH_BYTES:
                        yield sink.take()
            counts[kind] = count
        text = json.dumps(manifest(began=began, counts=counts, request=request), indent=2)
        archive.writestr("manifest.json", text + "\n")
    yield sink.take()
