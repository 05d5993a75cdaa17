"""The SOAP partner API's session calls: `login`, `getUserInfo` and `logout` at `/services/Soap/u/{version}`.

Clients (simple-salesforce, jsforce, Bulk API 1.0 tools) log in here and read the
`userInfo` block; every other SOAP call answers Salesforce's UNKNOWN_EXCEPTION fault.
Session calls are not counted against the daily allowance here.
"""

from __future__ import annotations

import re
from typing import Annotated
from xml.sax.saxutils import escape

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from sf_emulator.api import emulator
from sf_emulator.ids import make_id
from sf_emulator.org import POD, Emulator
from sf_emulator.routers.auth import authenticate, instance_url_of
from sf_emulator.wire import ApiError

router = APIRouter()
Org = Annotated[Emulator, Depends(emulator)]

ORGANIZATION_NAME = "Sales Connect Emulator Org"
#: The org's session timeout (Setup > Session Settings): two hours, Salesforce's default.
SESSION_SECONDS_VALID = 7200
#: Every emulated user has the System Administrator profile.
PROFILE_ID = make_id("00e", POD, 1)

_ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
    ' xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>'
)


def _xml_value(document: str, tag: str) -> str | None:
    match = re.search(rf"<(?:\w+:)?{tag}(?:\s[^>]*)?>(.*?)</(?:\w+:)?{tag}>", document, re.DOTALL)
    if match is None:
        return None
    text = match.group(1)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace(
        "&amp;", "&")


def _call_name(document: str) -> str | None:
    """The operation in the SOAP Body (`login`, `logout`, `getUserInfo`, ...)."""
    match = re.search(r"<(?:\w+:)?Body[^>]*>\s*<(?:\w+:)?(\w+)[\s/>]", document)
    return match.group(1) if match else None


def _fault(code: str, message: str, kind: str = "UnexpectedErrorFault") -> Response:
    body = (f"<soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{code}: {escape(message)}</faultstring>"
            f'<detail><sf:{kind} xsi:type="sf:{kind}"><sf:exceptionCode>{code}</sf:exceptionCode>'
            f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage></sf:{kind}></detail></soapenv:Fault>")
    return Response(_ENVELOPE.format(body=body), status_code=500, media_type="text/xml")


def _answer(body: str) -> Response:
    return Response(_ENVELOPE.format(body=body), media_type="text/xml")


def user_info_xml(org: Emulator, user_id: str) -> str:
    """The fields of a GetUserInfoResult, in the WSDL's order (login's `userInfo` carries the same)."""
    user = org.store.read("SELECT Username, Name, Email, TimeZoneSidKey FROM sf_user WHERE Id = ?", (user_id,))[0]
    return (
        "<accessibilityMode>false</accessibilityMode><chatterExternal>false</chatterExternal>"
        "<currencySymbol>$</currencySymbol><orgAttachmentFileSizeLimit>5242880</orgAttachmentFileSizeLimit>"
        "<orgDefaultCurrencyIsoCode>USD</orgDefaultCurrencyIsoCode>"
        '<orgDefaultCurrencyLocale>en_US</orgDefaultCurrencyLocale>'
        "<orgDisallowHtmlAttachments>false</orgDisallowHtmlAttachments><orgHasPersonAccounts>false</orgHasPersonAccounts>"
        f"<organizationId>{org.org_id}</organizationId><organizationMultiCurrency>false</organizationMultiCurrency>"
        f"<organizationName>{escape(ORGANIZATION_NAME)}</organizationName><profileId>{PROFILE_ID}</profileId>"
        f'<roleId xsi:nil="true"/><sessionSecondsValid>{SESSION_SECONDS_VALID}</sessionSecondsValid>'
        f"<userDefaultCurrencyIsoCode xsi:nil=\"true\"/><userEmail>{escape(user['Email'])}</userEmail>"
        f"<userFullName>{escape(user['Name'])}</userFullName><userId>{user_id}</userId>"
        "<userLanguage>en_US</userLanguage><userLocale>en_US</userLocale>"
        f"<userName>{escape(user['Username'])}</userName><userTimeZone>{user['TimeZoneSidKey']}</userTimeZone>"
        "<userType>Standard</userType><userUiSkin>Theme3</userUiSkin>"
    )


def _login(version: str, document: str, request: Request, org: Emulator) -> Response:
    user_id = authenticate(org, _xml_value(document, "username"), _xml_value(document, "password"))
    if user_id is None:
        return _fault("INVALID_LOGIN", "Invalid username, password, security token; or user locked out.",
                      "LoginFault")
    session_id = org.sessions.issue(user_id)
    base = escape(instance_url_of(request, org))
    org15 = org.org_id[:15]
    return _answer(
        "<loginResponse><result>"
        f"<metadataServerUrl>{base}/services/Soap/m/{version}/{org15}</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
        f"<serverUrl>{base}/services/Soap/u/{version}/{org15}</serverUrl>"
        f"<sessionId>{escape(session_id)}</sessionId><userId>{user_id}</userId>"
        f"<userInfo>{user_info_xml(org, user_id)}</userInfo></result></loginResponse>"
    )


async def soap(version: str, request: Request, org: Org) -> Response:
    """One partner API call; the session of calls other than `login` comes from the SessionHeader."""
    document = (await request.body()).decode("utf-8", errors="replace")
    call = _call_name(document)
    if call == "login":
        return _login(version, document, request, org)
    if call not in ("logout", "getUserInfo"):
        return _fault("UNKNOWN_EXCEPTION", f"The emulator's SOAP endpoint does not support the {call} call")
    session_id = _xml_value(document, "sessionId") or ""
    try:
        user_id = org.sessions.user_for(f"Bearer {session_id}")
    except ApiError:
        return _fault("INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session")
    if call == "logout":
        org.sessions.revoke(session_id)
        return _answer("<logoutResponse/>")
    return _answer(f"<getUserInfoResponse><result>{user_info_xml(org, user_id)}</result></getUserInfoResponse>")


# The org-specific serverUrl login hands out (`.../Soap/u/59.0/00D...`) takes the same calls.
router.add_api_route("/services/Soap/u/{version}", soap, methods=["POST"])
router.add_api_route("/services/Soap/u/{version}/{org_id}", soap, methods=["POST"], include_in_schema=False)
