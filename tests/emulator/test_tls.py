"""The emulator's private CA: reused across restarts, server certificate re-issued when its names change."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from cryptography import x509

from sf_emulator.tls import ensure_tls_files


def _names(path: Path) -> list[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return sorted([*san.get_values_for_type(x509.DNSName), *map(str, san.get_values_for_type(x509.IPAddress))])


def test_ca_and_server_certificate(tmp_path: Path) -> None:
    files = ensure_tls_files(tmp_path / "tls", tmp_path / "keys")
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    server = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    server.verify_directly_issued_by(ca)
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert _names(files.server_cert) == ["127.0.0.1", "localhost"]
    for key in (files.server_key, files.ca_key):
        assert key.stat().st_mode & 0o077 == 0
    assert sorted(p.name for p in (tmp_path / "tls").iterdir()) == ["ca.pem", "server.pem"]  # no keys to share


def test_ca_is_kept_and_server_certificate_follows_the_names(tmp_path: Path) -> None:
    first = ensure_tls_files(tmp_path / "tls", tmp_path / "keys")
    ca_bytes, server_bytes = first.ca_cert.read_bytes(), first.server_cert.read_bytes()
    assert ensure_tls_files(tmp_path / "tls", tmp_path / "keys").server_cert.read_bytes() == server_bytes
    named = ensure_tls_files(tmp_path / "tls", tmp_path / "keys", ["sf-emulator", "10.0.0.5"])
    assert named.ca_cert.read_bytes() == ca_bytes
    assert _names(named.server_cert) == ["10.0.0.5", "127.0.0.1", "localhost", "sf-emulator"]
    named.server_key.unlink()
    assert ensure_tls_files(tmp_path / "tls", tmp_path / "keys", ["sf-emulator"]).ca_cert.read_bytes() == ca_bytes


def test_a_lost_ca_key_means_a_new_ca_and_server_certificate(tmp_path: Path) -> None:
    first = ensure_tls_files(tmp_path / "tls", tmp_path / "keys")
    ca_bytes = first.ca_cert.read_bytes()
    first.ca_key.unlink()
    again = ensure_tls_files(tmp_path / "tls", tmp_path / "keys")
    new_ca = x509.load_pem_x509_certificate(again.ca_cert.read_bytes())
    assert again.ca_cert.read_bytes() != ca_bytes
    x509.load_pem_x509_certificate(again.server_cert.read_bytes()).verify_directly_issued_by(new_ca)
