"""A private certificate authority and a server certificate for 127.0.0.1/localhost (and extra names).

The real clients verify TLS; rather than turning verification off, the emulator
mints its own CA and clients trust it through a CA-bundle path
(`requests.Session().verify = ca.pem`). Files live next to the state, so a
restart on the same state keeps the same CA (clients holding the bundle keep
working); the server certificate is re-issued by that CA whenever the names it
must cover change (e.g. `--hostname sf-emulator` in a container network).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = timedelta(days=825)
_RENEW_BEFORE = timedelta(days=1)
_BASE_NAMES = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path


def ensure_tls_files(directory: Path, key_directory: Path, hostnames: Iterable[str] = ()) -> TlsFiles:
    """The certificates in `directory` and their private keys in `key_directory`, (re)created as needed.

    Certificates and keys live apart so the certificate folder can be shared
    with clients (e.g. as a read-only volume) without handing out keys. The CA
    is kept while valid; the server certificate is re-issued when it is
    missing, expiring, not signed by the CA, or does not cover exactly
    localhost, 127.0.0.1 and `hostnames`.
    """
    directory.mkdir(parents=True, exist_ok=True)
    key_directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    files = TlsFiles(directory / "ca.pem", key_directory / "ca-key.pem", directory / "server.pem",
                     key_directory / "server-key.pem")
    names = sorted({*_BASE_NAMES, *hostnames})
    ca_cert, ca_key = _load_ca(files)
    if ca_cert is None or ca_key is None:
        ca_cert, ca_key = _new_ca(files)
    if not _server_cert_fits(files, ca_cert, names):
        _issue_server_cert(files, ca_cert, ca_key, names)
    return files


def _fresh(cert: x509.Certificate) -> bool:
    return cert.not_valid_after_utc > datetime.now(UTC) + _RENEW_BEFORE


def _load_ca(files: TlsFiles) -> tuple[x509.Certificate | None, ec.EllipticCurvePrivateKey | None]:
    if not (files.ca_cert.exists() and files.ca_key.exists()):
        return None, None
    cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    if not _fresh(cert) or not isinstance(key, ec.EllipticCurvePrivateKey):
        return None, None
    return cert, key


def _server_cert_fits(files: TlsFiles, ca_cert: x509.Certificate, names: list[str]) -> bool:
    if not (files.server_cert.exists() and files.server_key.exists()):
        return False
    cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    covered = sorted([*san.get_values_for_type(x509.DNSName), *map(str, san.get_values_for_type(x509.IPAddress))])
    return _fresh(cert) and covered == names


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sales Connect Salesforce emulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _new_ca(files: TlsFiles) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    now = datetime.now(UTC) - timedelta(minutes=5)
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("Salesforce emulator local CA")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(files.ca_key, _key_bytes(key), private=True)
    _write(files.ca_cert, cert.public_bytes(serialization.Encoding.PEM), private=False)
    return cert, key


def _issue_server_cert(files: TlsFiles, ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey,
                       names: list[str]) -> None:
    now = datetime.now(UTC) - timedelta(minutes=5)
    key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = []
    for name in names:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt_names.append(x509.DNSName(name))
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(min(now + _VALIDITY, ca_cert.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(files.server_key, _key_bytes(key), private=True)
    _write(files.server_cert, cert.public_bytes(serialization.Encoding.PEM), private=False)


def _key_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: Path, data: bytes, *, private: bool) -> None:
    """Write atomically (and 0600 for keys) so a half-written file never gets loaded."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
