"""The proxy's certificate authority: created in a confdir of its own (a temp dir per run by default),
never installed system-wide. Browsers trust it by its SPKI hash at launch."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from mitmproxy.certs import CertStore

CA_BASENAME = "mitmproxy"  # mitmproxy reads "<confdir>/mitmproxy-ca.pem"
KEY_SIZE = 2048


@dataclass(frozen=True)
class CertificateAuthority:
    confdir: Path

    @property
    def cert_path(self) -> Path:
        """The CA certificate alone (PEM): what clients are told to trust."""
        return self.confdir / f"{CA_BASENAME}-ca-cert.pem"

    def spki_hash(self) -> str:
        """base64(SHA-256(SubjectPublicKeyInfo)): the form ``--ignore-certificate-errors-spki-list`` takes."""
        cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        spki = cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


def ensure_ca(confdir: Path) -> CertificateAuthority:
    """Create the CA in ``confdir`` unless it is there already (a persistent confdir keeps its CA)."""
    confdir.mkdir(parents=True, exist_ok=True)
    CertStore.from_store(confdir, CA_BASENAME, KEY_SIZE)
    return CertificateAuthority(confdir)
