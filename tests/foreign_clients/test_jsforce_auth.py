"""jsforce logs in, refreshes, reads its identity and logs out as against a real org."""

from __future__ import annotations

from foreign_harness import Driver

from sf_emulator.process import EmulatorProcess


def test_jsforce_soap_login_reads_user_info_and_identity_then_logout_ends_the_session(
        jsforce: Driver, emu: EmulatorProcess) -> None:
    seen = jsforce("soap_login")
    assert seen["userInfo"]["id"] == emu.user_id
    assert seen["userInfo"]["organizationId"] == emu.org_id
    identity = seen["identity"]
    assert identity["user_id"] == emu.user_id and identity["organization_id"] == emu.org_id
    assert identity["username"] == "integration@salesconnect.example"
    assert identity["urls"]["rest"].endswith("/services/data/v{version}/")
    assert seen["count"] == 0
    assert seen["reused"]["errorCode"] == "INVALID_SESSION_ID"


def test_jsforce_oauth_login_reads_identity_and_logout_revokes_the_token(jsforce: Driver,
                                                                         emu: EmulatorProcess) -> None:
    seen = jsforce("oauth_password")
    assert seen["userInfo"]["id"] == emu.user_id
    assert seen["identity"]["display_name"] == "Integration User"
    assert seen["afterRevoke"]["errorCode"] == "INVALID_SESSION_ID"


def test_jsforce_refreshes_a_stale_session_with_its_refresh_token_and_an_unknown_one_is_invalid_grant(
        jsforce: Driver, emu: EmulatorProcess) -> None:
    seen = jsforce("oauth_refresh", refresh_token=emu.refresh_token())
    assert seen["count"] == 0
    assert seen["refreshed"] == 1
    assert seen["unknown"]["name"] == "invalid_grant"
    assert seen["unknown"]["message"] == "expired access/refresh token"
