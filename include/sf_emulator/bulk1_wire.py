"""Bulk API 1.0's wire formats: jobInfo/batchInfo in XML or JSON, batch bodies in, results out, errors.

Bulk API 1.0 (`/services/async/{version}/`) predates the REST conventions: it
answers XML in the `asyncapi/dataload` namespace unless the client speaks JSON
(`Content-Type` or `Accept: application/json`), writes datetimes as
'...000Z' in XML and '...000+0000' in JSON, and fails with an
AsyncApiException (`<error><exceptionCode>…`) instead of the REST error array.
Batch data comes as CSV, JSON or XML and leaves here as rows of text cells, the
form `bulk_rows.RowWriter` takes for both Bulk APIs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from fastapi import Request, Response

from sf_emulator.bulk_rows import NULL_VALUE, RowOutcome, bulk_error_text, csv_value, read_csv, write_csv
from sf_emulator.records import record_json
from sf_emulator.schema import ObjectSchema
from sf_emulator.wire import ApiError, parse_datetime, to_storage, to_wire

NS = "http://www.force.com/2009/06/asyncapi/dataload"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_TYPE = "application/xml; charset=UTF-8"
JSON_TYPE = "application/json; charset=UTF-8"
CSV_TYPE = "text/csv; charset=UTF-8"
CONTENT_TYPES = ("CSV", "JSON", "XML")
#: REST error codes raised by shared code (session, allowance, routing) and the exception code Bulk 1.0 uses.
_ASYNC_CODES = {"INVALID_SESSION_ID": ("InvalidSessionId", 400, "Invalid session id"),
                "REQUEST_LIMIT_EXCEEDED": ("ExceededQuota", 403, None),
                "NOT_FOUND": ("InvalidUrl", 400, None),
                "METHOD_NOT_ALLOWED": ("InvalidUrl", 405, None),
                "INVALID_PARAMETER_VALUE": ("ClientInputError", 400, None),
                "URI_TOO_LONG": ("InvalidUrl", 414, None)}


def async_error(code: str, message: str, status: int = 400) -> ApiError:
    """An AsyncApiException (`InvalidJob`, `InvalidBatch`, ...) to raise from Bulk 1.0 code."""
    return ApiError(status, code, message)


def wants_json(request: Request) -> bool:
    """Whether the client speaks JSON: it sent or asked for application/json (else Salesforce answers XML)."""
    return any("json" in (request.headers.get(name) or "").lower() for name in ("content-type", "accept"))


def error_response(request: Request, error: ApiError) -> Response:
    """`error` as Bulk 1.0 answers it, translated from the REST code where shared code raised it."""
    code, status, message = _ASYNC_CODES.get(error.error_code, (error.error_code, error.status, None))
    message = message or error.message
    if wants_json(request):
        return Response(json.dumps({"exceptionCode": code, "exceptionMessage": message}), status_code=status,
                        media_type=JSON_TYPE)
    body = (f'<?xml version="1.0" encoding="UTF-8"?><error\n   xmlns="{NS}">\n'
            f" <exceptionCode>{escape(code)}</exceptionCode>\n"
            f" <exceptionMessage>{escape(message)}</exceptionMessage>\n</error>")
    return Response(body, status_code=status, media_type=XML_TYPE)


# -- info documents ----------------------------------------------------------------------------------------------
def _xml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return to_storage(value)  # '2024-05-01T12:34:56.000Z', as the XML API writes it
    return escape(str(value))


def _json_value(value: Any) -> Any:
    return to_wire(value) if isinstance(value, datetime) else value


def _xml_fields(fields: Mapping[str, Any], indent: str) -> str:
    return "".join(f"{indent}<{k}>{_xml_text(v)}</{k}>\n" for k, v in fields.items() if v is not None)


def info_response(root: str, fields: Mapping[str, Any], as_json: bool, status: int = 200) -> Response:
    """A `jobInfo` or `batchInfo` document; None-valued fields are left out, as Salesforce omits them."""
    if as_json:
        body = {k: _json_value(v) for k, v in fields.items() if v is not None}
        return Response(json.dumps(body), status_code=status, media_type=JSON_TYPE)
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><{root}\n   xmlns="{NS}">\n'
           f"{_xml_fields(fields, ' ')}</{root}>")
    return Response(xml, status_code=status, media_type=XML_TYPE)


def batch_list_response(batches: list[Mapping[str, Any]], as_json: bool) -> Response:
    """`GET job/{id}/batch`: every batch's info in creation order."""
    if as_json:
        body = {"batchInfo": [{k: _json_value(v) for k, v in b.items() if v is not None} for b in batches]}
        return Response(json.dumps(body), media_type=JSON_TYPE)
    items = "".join(f" <batchInfo>\n{_xml_fields(b, '  ')} </batchInfo>\n" for b in batches)
    return Response(f'<?xml version="1.0" encoding="UTF-8"?><batchInfoList\n   xmlns="{NS}">\n{items}'
                    "</batchInfoList>", media_type=XML_TYPE)


# -- request bodies ----------------------------------------------------------------------------------------------
def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def parse_xml(raw: bytes) -> ElementTree.Element:
    """An XML request body, or 400 InvalidXML."""
    try:
        return ElementTree.fromstring(raw.strip())
    except ElementTree.ParseError as exc:
        raise async_error("InvalidXML", f"Unable to parse the XML request body: {exc}") from None


def parse_job_request(raw: bytes, as_json: bool) -> dict[str, Any]:
    """A jobInfo request (create or state change) as a flat dict of its elements."""
    if as_json:
        try:
            body = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError):
            raise async_error("ClientInputError", "Unable to parse the JSON request body") from None
        if not isinstance(body, dict):
            raise async_error("ClientInputError", "The request body must be a JSON jobInfo object")
        return body
    root = parse_xml(raw)
    if _local(root.tag) != "jobInfo":
        raise async_error("InvalidXML", f"Expected a jobInfo element, found {_local(root.tag)}")
    return {_local(child.tag): (child.text or "").strip() for child in root}


def _cell(value: Any) -> str:
    """A JSON batch value as the CSV cell that means the same (null and "" set the field to null)."""
    if value is None or value == "":
        return NULL_VALUE
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _records_to_rows(records: list[dict[str, str]]) -> tuple[list[str], list[list[str]]]:
    header = list(dict.fromkeys(k for r in records for k in r))
    if not header:
        raise ValueError("InvalidBatch : Records not found in the batch")
    # A field a record leaves out stays as it is, like an empty CSV cell.
    return header, [[record.get(name, "") for name in header] for record in records]


def batch_rows(content_type: str, raw: bytes) -> tuple[list[str], list[list[str]]]:
    """The header and rows of text cells of a batch; ValueError fails the batch (Salesforce's stateMessage)."""
    if content_type == "CSV":
        return read_csv(raw)
    if content_type == "JSON":
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ValueError("InvalidBatch : Failed to parse JSON: the batch is not valid JSON") from None
        if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
            raise ValueError("InvalidBatch : A JSON batch must be an array of record objects")
        return _records_to_rows([{k: _cell(v) for k, v in r.items() if k != "attributes"} for r in body])
    try:
        root = ElementTree.fromstring(raw.strip())
    except ElementTree.ParseError as exc:
        raise ValueError(f"InvalidBatch : Failed to parse XML: {exc}") from None
    records = []
    for item in root:
        record = {}
        for child in item:
            if _local(child.tag) == "type":
                continue
            nil = child.get(f"{{{XSI}}}nil") == "true"
            record[_local(child.tag)] = NULL_VALUE if nil or not (child.text or "") else child.text or ""
        records.append(record)
    return _records_to_rows(records)


# -- results -----------------------------------------------------------------------------------------------------
def dml_results_response(outcomes: Iterable[RowOutcome], content_type: str) -> Response:
    """A DML batch's results, one per input row in order, in the job's content type."""
    outcomes = list(outcomes)
    if content_type == "CSV":
        rows = [["Id", "Success", "Created", "Error"]]
        rows += [[o.record_id, "true" if o.error is None else "false",
                  "true" if o.created else "false", "" if o.error is None else bulk_error_text(o.error)]
                 for o in outcomes]
        return Response(write_csv(rows), media_type=CSV_TYPE)
    if content_type == "JSON":
        body = [{"success": o.error is None, "created": o.created, "id": o.record_id or None,
                 "errors": [] if o.error is None else [o.error.collection_entry()]} for o in outcomes]
        return Response(json.dumps(body), media_type=JSON_TYPE)
    items = []
    for o in outcomes:
        errors = "" if o.error is None else (
            "<errors>" + "".join(f"<fields>{escape(f)}</fields>" for f in o.error.fields or [])
            + f"<message>{escape(o.error.message)}</message><statusCode>{o.error.error_code}</statusCode></errors>")
        ident = f"<id>{o.record_id}</id>" if o.record_id else "<id xsi:nil=\"true\"/>"
        items.append(f"<result>{errors}{ident}<success>{_xml_text(o.error is None)}</success>"
                     f"<created>{_xml_text(o.created)}</created></result>")
    return Response(f'<?xml version="1.0" encoding="UTF-8"?><results xmlns="{NS}" xmlns:xsi="{XSI}">'
                    f"{''.join(items)}</results>", media_type=XML_TYPE)


def result_list_response(result_ids: list[str], as_json: bool) -> Response:
    """A query batch's result ids (one result file each)."""
    if as_json:
        return Response(json.dumps(result_ids), media_type=JSON_TYPE)
    items = "".join(f"<result>{rid}</result>" for rid in result_ids)
    return Response(f'<?xml version="1.0" encoding="UTF-8"?><result-list xmlns="{NS}">{items}</result-list>',
                    media_type=XML_TYPE)


def _epoch_ms(text: str) -> int:
    moment = parse_datetime(text if "T" in text else f"{text}T00:00:00Z")
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1000)


def query_result_response(schema: ObjectSchema, names: list[str], rows: Iterable[Mapping[str, Any]],
                          content_type: str, version: str) -> Response:
    """One query result file: CSV with a header, JSON records (dates as epoch milliseconds), or XML records."""
    specs = [schema.fields[name.lower()] for name in names]
    if content_type == "CSV":
        lines = [names, *([csv_value(s, row[s.name]) or "" for s in specs] for row in rows)]
        return Response(write_csv(lines), media_type=CSV_TYPE)
    if content_type == "JSON":
        records = []
        for row in rows:
            record = record_json(schema, row, names, version)
            for spec in specs:
                if spec.type in ("date", "datetime") and row[spec.name] is not None:
                    record[spec.name] = _epoch_ms(row[spec.name])  # Bulk 1.0 JSON writes dates as numbers
            records.append(record)
        return Response(json.dumps(records), media_type=JSON_TYPE)
    items = []
    for row in rows:
        cells = "".join(f'<{s.name} xsi:nil="true"/>' if row[s.name] is None
                        else f"<{s.name}>{escape(csv_value(s, row[s.name]) or '')}</{s.name}>" for s in specs)
        items.append(f'<records xsi:type="sObject"><type>{schema.name}</type>{cells}</records>')
    return Response(f'<?xml version="1.0" encoding="UTF-8"?><queryResult xmlns="{NS}" xmlns:xsi="{XSI}">'
                    f"{''.join(items)}</queryResult>", media_type=XML_TYPE)
