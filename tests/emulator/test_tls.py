"""The emulator's private CA: reused across restarts, regenerated when incomplete, valid for 127.0.0.1/localhost."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from cryptography import x509

from sf_emulator.tls import ensure_tls_files


def test_ca_and_server_certificate(tmp_path: Path) -> None:
    files = ensure_tls_files(tmp_path / "tls")
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    server = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert server.issuer == ca.subject
    server.verify_directly_issued_by(ca)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert files.server_key.stat().st_mode & 0o077 == 0


def test_files_are_reused_and_regenerated_when_one_is_missing(tmp_path: Path) -> None:
    first = ensure_tls_files(tmp_path)
    ca_bytes = first.ca_cert.read_bytes()
    assert ensure_tls_files(tmp_path).ca_cert.read_bytes() == ca_bytes
    first.server_key.unlink()
    regenerated = ensure_tls_files(tmp_path)
    assert regenerated.server_key.exists() and regenerated.ca_cert.read_bytes() != ca_bytes
