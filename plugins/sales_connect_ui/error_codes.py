"""Plain-language explanations of the error codes the sync history shows.

Salesforce's own codes (from its REST API) and the codes the sync's input
checks give a record it quarantines. The sync history shows the code and
Salesforce's message as they are, and adds the sentence here so a sales rep
knows what to fix without reading API documentation.
"""

from __future__ import annotations

from typing import Final

EXPLANATIONS: Final[dict[str, str]] = {
    # Salesforce REST API codes
    "STRING_TOO_LONG": "A text field is longer than Salesforce allows (a subject can have at most 255 characters). "
    "Shorten it in Sales Connect; the next sync sends it again.",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": "A value is not one of the choices Salesforce allows for that field "
    "(for example a status or priority your org does not have). Pick another value.",
    "REQUIRED_FIELD_MISSING": "Salesforce needs a field this task leaves empty. Fill it in and the sync retries.",
    "UNABLE_TO_LOCK_ROW": "Someone or something else was changing the same Salesforce record at that moment. "
    "Nothing to fix: the sync retries automatically.",
    "ENTITY_IS_DELETED": "The task was deleted in Salesforce (it is in the recycle bin), "
    "so it cannot be changed there.",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": "A validation rule your Salesforce admin set up refused the change; "
    "the message says which rule. Change the task so it satisfies the rule, or ask your admin.",
    "INSUFFICIENT_ACCESS_OR_READONLY": "The Salesforce user the sync signs in as may not change this record "
    "(sharing rules or field-level security). Ask your Salesforce admin for access.",
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": "The task points at a record (owner, contact, account) the "
    "sync's Salesforce user cannot see. Ask your Salesforce admin.",
    "INVALID_CROSS_REFERENCE_KEY": "The task refers to a Salesforce record that does not exist (or no longer does).",
    "DUPLICATE_VALUE": "Salesforce already has a record with this unique value.",
    "MALFORMED_ID": "A Salesforce id in the task is not a valid id.",
    "INVALID_FIELD": "The sync asked Salesforce for a field your org does not have. Tell the team that runs the sync.",
    "REQUEST_LIMIT_EXCEEDED": "Your Salesforce org used up its daily API allowance. The sync resumes when it resets.",
    "INVALID_SESSION_ID": "The sync's Salesforce login expired or was revoked; the team that runs the sync must "
    "renew the Airflow connection.",
    "OWNER_NOT_MAPPED": "The Salesforce task belongs to a Salesforce user who is not mapped to any Sales Connect user, "
    "so it has nowhere to go. Set that Salesforce user id on the right person's settings page.",
    # The sync's own input checks (records quarantined before reaching the other side)
    "SF_OWNER_NOT_MAPPED": "The Salesforce task belongs to a Salesforce user who is not mapped to any Sales Connect "
    "user, so it has nowhere to go. Set that Salesforce user id on the right person's settings page.",
    "SF_BAD_ID": "Salesforce sent a record id that is not a valid Salesforce id.",
    "SF_BAD_DATETIME": "Salesforce sent a date and time the sync cannot read.",
    "SF_BAD_DATE": "Salesforce sent a due date the sync cannot read.",
    "SF_UNKNOWN_STATUS": "The Salesforce task has a status Sales Connect does not know.",
    "SF_UNKNOWN_PRIORITY": "The Salesforce task has a priority Sales Connect does not know.",
    "SF_UNKNOWN_TYPE": "The Salesforce task has a type Sales Connect does not know.",
    "SF_MISSING_SUBJECT": "The Salesforce task has no subject; Sales Connect needs one.",
    "SF_NUL_CHARACTER": "A text field of the Salesforce task holds an invisible NUL character (often left by a data "
    "import), which Sales Connect cannot store. Retype that field in Salesforce; the next sync takes the task.",
    "SC_SUBJECT_TOO_LONG": "The subject is longer than Salesforce's 255 characters. Shorten it; it is never cut off "
    "silently.",
    "SC_DESCRIPTION_TOO_LONG": "The description is longer than Salesforce allows. Shorten it.",
    "SC_UNKNOWN_STATUS": "The task's status has no Salesforce equivalent.",
    "SC_UNKNOWN_PRIORITY": "The task's priority has no Salesforce equivalent.",
    "SC_UNKNOWN_TYPE": "The task's type has no Salesforce equivalent.",
    "SC_BAD_DATE": "The task's due date cannot be sent to Salesforce.",
    "SC_BAD_DATETIME": "The task's reminder time cannot be sent to Salesforce.",
}

UNKNOWN: Final = "Salesforce refused this record; the message above is Salesforce's own. The sync retries it."


def explain(code: str) -> str:
    """The plain-language sentence for ``code`` (a generic one for codes not in the table)."""
    return EXPLANATIONS.get(code, UNKNOWN)
