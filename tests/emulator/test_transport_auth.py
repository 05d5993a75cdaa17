"""HTTPS with the emulator's own CA, session handling, and the OAuth/SOAP login endpoints."""

from __future__ import annotations

import base64

import pytest
import requests
from simple_salesforce import Salesforce, SalesforceExpiredSession
from simple_salesforce.exceptions import SalesforceAuthenticationFailed
from simple_salesforce.login import SalesforceLogin

from sf_emulator.ids import is_valid_id
from sf_emulator.process import EmulatorProcess
from sf_emulator.seed import DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN

INVALID_SESSION_BODY = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_tls_is_verified_against_the_emulator_ca(emu: EmulatorProcess) -> None:
    untrusting = requests.Session()
    untrusting.trust_env = False
    with pytest.raises(requests.exceptions.SSLError):
        untrusting.get(f"{emu.instance_url}/services/data/", timeout=10)
    trusting = emu.requests_session()
    localhost_url = emu.instance_url.replace("127.0.0.1", "localhost")
    assert trusting.get(f"{localhost_url}/services/data/", timeout=10).status_code == 200


def test_versions_list_needs_no_session(emu: EmulatorProcess) -> None:
    response = emu.requests_session().get(f"{emu.instance_url}/services/data/", timeout=10)
    assert response.status_code == 200
    versions = {v["version"]: v for v in response.json()}
    assert versions["59.0"] == {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"}


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-session", "Basic abc"])
def test_invalid_session_gets_salesforce_401(emu: EmulatorProcess, authorization: str | None) -> None:
    http = emu.requests_session()
    headers = {"Authorization": authorization} if authorization else {}
    response = http.get(f"{emu.instance_url}/services/data/v59.0/limits", headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json() == INVALID_SESSION_BODY


def test_invalid_session_raises_expired_session_in_simple_salesforce(emu: EmulatorProcess) -> None:
    sf = Salesforce(instance_url=emu.instance_url, session_id="00Dbogus!token", session=emu.requests_session())
    with pytest.raises(SalesforceExpiredSession) as info:
        sf.query("SELECT Id FROM Task")
    assert info.value.status == 401
    assert info.value.content == INVALID_SESSION_BODY


def test_a_revoked_session_stops_working(emu: EmulatorProcess, raw_as) -> None:
    extra = emu.new_session()
    sf = Salesforce(instance_url=emu.instance_url, session_id=extra, session=emu.requests_session())
    assert sf.limits()["DailyApiRequests"]["Max"] > 0
    assert emu.revoke_sessions(extra) == 1
    with pytest.raises(SalesforceExpiredSession):
        sf.limits()
    assert raw_as(extra).get("limits").json() == INVALID_SESSION_BODY
    assert raw_as(emu.session_id).get("limits").status_code == 200


def _token(emu: EmulatorProcess, **form: str) -> requests.Response:
    return emu.requests_session().post(f"{emu.instance_url}/services/oauth2/token", data=form, timeout=10)


def test_oauth_password_grant_issues_a_working_session(emu: EmulatorProcess, users: dict) -> None:
    info = emu.info()
    response = _token(emu, grant_type="password", client_id=info["consumer_key"],
                      client_secret=info["consumer_secret"], username=users["Ava"]["Username"],
                      password=DEFAULT_PASSWORD + DEFAULT_SECURITY_TOKEN)
    assert response.status_code == 200
    body = response.json()
    assert body["instance_url"] == emu.instance_url
    assert body["token_type"] == "Bearer"
    assert body["id"].endswith(f"/id/{info['org_id']}/{users['Ava']['Id']}")
    assert body["issued_at"].isdigit() and body["signature"]
    sf = Salesforce(instance_url=body["instance_url"], session_id=body["access_token"], session=emu.requests_session())
    created = sf.Task.create({"Subject": "made by Ava"})
    assert sf.Task.get(created["id"])["OwnerId"] == users["Ava"]["Id"]


def test_oauth_client_credentials_with_basic_auth_runs_as_integration_user(emu: EmulatorProcess) -> None:
    info = emu.info()
    basic = base64.b64encode(f"{info['consumer_key']}:{info['consumer_secret']}".encode()).decode()
    response = emu.requests_session().post(
        f"{emu.instance_url}/services/oauth2/token", data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"}, timeout=10)
    assert response.status_code == 200
    assert response.json()["id"].endswith(f"/{info['api_user_id']}")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password", "client_id": "wrong"}, "invalid_client_id"),
        ({"grant_type": "password", "client_secret": "wrong"}, "invalid_client"),
        ({"grant_type": "password", "password": "wrong-password"}, "invalid_grant"),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
    ],
)
def test_oauth_errors(emu: EmulatorProcess, users: dict, form: dict, error: str) -> None:
    info = emu.info()
    full = {"client_id": info["consumer_key"], "client_secret": info["consumer_secret"],
            "username": users["Ava"]["Username"], "password": DEFAULT_PASSWORD, **form}
    response = _token(emu, **full)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_oauth_refuses_inactive_users(emu: EmulatorProcess, users: dict) -> None:
    info = emu.info()
    response = _token(emu, grant_type="password", client_id=info["consumer_key"],
                      client_secret=info["consumer_secret"], username=users["Dan"]["Username"],
                      password=DEFAULT_PASSWORD)
    assert response.json() == {"error": "invalid_grant", "error_description": "authentication failure"}


def test_soap_login_through_simple_salesforce(emu: EmulatorProcess, users: dict) -> None:
    # simple-salesforce builds https://{domain}.salesforce.com for logins; its SOAP path
    # takes a scratch_url instead, which is how it reaches 127.0.0.1 without DNS.
    session_id, instance = SalesforceLogin(
        username=users["Ben"]["Username"], password=DEFAULT_PASSWORD, security_token=DEFAULT_SECURITY_TOKEN,
        scratch_url=emu.instance_url, session=emu.requests_session())
    assert instance == emu.instance_url.removeprefix("https://")
    sf = Salesforce(instance=instance, session_id=session_id, session=emu.requests_session())
    created = sf.Task.create({"Subject": "made by Ben"})
    assert is_valid_id(created["id"])
    assert sf.Task.get(created["id"])["CreatedById"] == users["Ben"]["Id"]


def test_soap_login_failure_raises_authentication_failed(emu: EmulatorProcess, users: dict) -> None:
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        SalesforceLogin(username=users["Ben"]["Username"], password="nope", security_token=DEFAULT_SECURITY_TOKEN,
                        scratch_url=emu.instance_url, session=emu.requests_session())
    assert info.value.code == "INVALID_LOGIN"


def test_logins_are_not_counted(emu: EmulatorProcess, users: dict) -> None:
    SalesforceLogin(username=users["Ben"]["Username"], password=DEFAULT_PASSWORD,
                    security_token=DEFAULT_SECURITY_TOKEN, scratch_url=emu.instance_url,
                    session=emu.requests_session())
    assert emu.counters()["total"] == 0


def test_control_plane_needs_no_session(emu: EmulatorProcess) -> None:
    response = requests.Session()
    response.trust_env = False
    answer = response.get(f"{emu.control_url}/clock", verify=emu.ca_bundle, timeout=10)
    assert answer.status_code == 200 and "now" in answer.json()


def test_unknown_resources_and_methods_answer_salesforce_errors(raw) -> None:
    for path in ("nonexistent", "https://" + raw.base.split("://")[1].replace("v59.0", "v12.0") + "/limits"):
        response = raw.get(path)
        assert response.status_code == 404
        assert response.json() == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
    response = raw.request("PUT", "sobjects/Task/00T5e0000000001EAA")
    assert response.status_code == 405
    assert response.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"
    assert "GET" in response.json()[0]["message"] and "PATCH" in response.json()[0]["message"]
