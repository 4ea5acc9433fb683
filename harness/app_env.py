"""The environment that routes a backend's outgoing HTTP(S) through the capture proxy, with no code change.

What each variable is for, and why it is set the way it is:

- ``HTTPS_PROXY`` / ``HTTP_PROXY`` and their lower-case twins: clients differ in which spelling they read
  (curl only reads lower-case ``http_proxy``; Go, requests and urllib read both). All four point at the
  proxy's *backend* port, whose requests belong to no run.
- ``NO_PROXY`` / ``no_proxy``: loopback only (``localhost,127.0.0.1,::1``), so the app's own database,
  cache or sidecar on localhost is reached directly. Vendors never live on loopback, so nothing the
  harness must see is exempted. Hosts mapped with ``--resolve`` are names, not loopback: they still go
  through the proxy, which maps them.
- ``SSL_CERT_FILE``, ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``, ``GRPC_DEFAULT_SSL_ROOTS_FILE_PATH``:
  these *replace* a client's trust store, so they point at a bundle of the system CAs (certifi's, else
  Debian's ``/etc/ssl/certs/ca-certificates.crt``) plus the harness CA: the app's other HTTPS (a payment
  API under ``--live``) keeps verifying. gRPC is included because Google Ads' offline conversion upload
  is a gRPC client; it honours ``https_proxy`` too.
- ``NODE_EXTRA_CA_CERTS``: Node *adds* these to its built-in roots, so it gets the harness CA alone.
  ``NODE_USE_ENV_PROXY=1`` makes Node >= 22.21 / 24 honour the proxy variables in ``fetch`` and ``http``;
  older Node ignores it (and the proxy variables: use a proxy agent there).
- ``PYTHONPATH`` (prepended; see ``merge_env``) adds a ``sitecustomize`` that teaches SDKs which ignore
  the standard variables to read them: the OpenAPI-generated clients of TikTok's
  ``tiktok-business-api-sdk-official``, Pinterest's ``pinterest-api-sdk`` and Snap's ``snap-business-sdk``
  (their urllib3 client reads neither ``HTTPS_PROXY`` nor ``SSL_CERT_FILE``: it uses ``Configuration.proxy``
  and certifi), and suds under Microsoft Advertising's ``bingads`` (it turns the environment's proxy off).
  Without this their conversion calls would bypass the harness silently (and, live, reach the real ad
  account).
  The shim only fills
  values the app left unset, and then runs any other ``sitecustomize`` on the path. Pass
  ``python_sdk_shim=False`` to leave ``PYTHONPATH`` alone.

Not covered: the JVM (needs ``-Dhttps.proxyHost`` and a trust store), PHP's ``openssl.cafile``.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path

BUNDLE_NAME = "eventpath-ca-bundle.pem"
SHIM_DIR_NAME = "python-shim"
SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
LOOPBACK_HOSTS = "localhost,127.0.0.1,::1"
PATH_LIST_VARS = ("PYTHONPATH",)  # merged (ours first), never replaced

_SITECUSTOMIZE = '''\
"""eventpath: make SDKs that ignore HTTPS_PROXY / SSL_CERT_FILE read them (written by harness.app_env)."""

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys

def _env_proxy():
    return os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy")


def _patch_configuration(module):
    """OpenAPI-generated clients: their Configuration has ``proxy`` and ``ssl_ca_cert`` (openapi-generator's)."""
    original = module.Configuration.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if not getattr(self, "proxy", None) and _env_proxy():
            self.proxy = _env_proxy()
        if not getattr(self, "ssl_ca_cert", None) and os.environ.get("SSL_CERT_FILE"):
            self.ssl_ca_cert = os.environ["SSL_CERT_FILE"]

    module.Configuration.__init__ = __init__


def _patch_suds(module):
    """suds (Microsoft's bingads SOAP client) installs ProxyHandler(options.proxy), {} by default: no proxy at
    all. With none set, use the environment's (ProxyHandler() reads it, NO_PROXY honoured)."""
    import urllib.request

    original = module.HttpTransport.u2handlers

    def u2handlers(self):
        if not self.proxy and _env_proxy():
            return [urllib.request.ProxyHandler()]
        return original(self)

    module.HttpTransport.u2handlers = u2handlers


# Module -> the patch applied once it is imported.
_PATCHES = {
    "business_api_client.configuration": _patch_configuration,  # TikTok's tiktok-business-api-sdk-official
    "openapi_generated.pinterest_client.configuration": _patch_configuration,  # Pinterest's pinterest-api-sdk
    "snap_business_sdk.configuration": _patch_configuration,  # Snap's snap-business-sdk (Conversions API)
    "suds.transport.http": _patch_suds,  # suds-community, under Microsoft Advertising's bingads
}


class _Loader(importlib.abc.Loader):
    def __init__(self, wrapped):
        self.wrapped = wrapped

    def create_module(self, spec):
        return self.wrapped.create_module(spec)

    def exec_module(self, module):
        self.wrapped.exec_module(module)
        _PATCHES[module.__name__](module)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name not in _PATCHES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


sys.meta_path.insert(0, _Finder())


def _chain_next_sitecustomize():
    # Python imports one sitecustomize: run the one this shim shadows, if any.
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


_chain_next_sitecustomize()
'''


def system_ca_bundle() -> Path | None:
    """The system trust store to extend: certifi's (what requests uses), else Debian's."""
    try:
        import certifi

        certifi_path = Path(certifi.where())
        if certifi_path.is_file():
            return certifi_path
    except ImportError:
        pass
    return SYSTEM_BUNDLE if SYSTEM_BUNDLE.is_file() else None


def write_ca_bundle(ca_cert: Path, bundle_dir: Path) -> Path:
    """System CAs + the harness CA in one PEM file in ``bundle_dir``; returns its path."""
    bundle_dir.mkdir(parents=True, exist_ok=True)
    system = system_ca_bundle()
    parts = [system.read_text()] if system else []
    parts.append(f"# eventpath capture proxy CA\n{ca_cert.read_text()}")
    bundle = bundle_dir / BUNDLE_NAME
    bundle.write_text("\n".join(p.rstrip("\n") + "\n" for p in parts))
    return bundle


def write_python_shim(bundle_dir: Path) -> Path:
    shim_dir = bundle_dir / SHIM_DIR_NAME
    shim_dir.mkdir(parents=True, exist_ok=True)
    (shim_dir / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    return shim_dir


def app_environment(
    proxy_url: str, ca_cert: Path, bundle_dir: Path, *, python_sdk_shim: bool = True
) -> dict[str, str]:
    """The variables that route a backend through the harness (``proxy_url`` = ``CaptureProxy.server_url``).

    Writes the CA bundle (and the Python shim) into ``bundle_dir``. Merge over a base environment with
    ``merge_env`` so ``PYTHONPATH`` is extended, not replaced.
    """
    bundle = str(write_ca_bundle(Path(ca_cert), Path(bundle_dir)))
    env = {
        "HTTPS_PROXY": proxy_url,
        "HTTP_PROXY": proxy_url,
        "https_proxy": proxy_url,
        "http_proxy": proxy_url,
        "NO_PROXY": LOOPBACK_HOSTS,
        "no_proxy": LOOPBACK_HOSTS,
        "SSL_CERT_FILE": bundle,
        "REQUESTS_CA_BUNDLE": bundle,
        "CURL_CA_BUNDLE": bundle,
        "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH": bundle,
        "NODE_EXTRA_CA_CERTS": str(ca_cert),
        "NODE_USE_ENV_PROXY": "1",
    }
    if python_sdk_shim:
        env["PYTHONPATH"] = str(write_python_shim(Path(bundle_dir)))
    return env


def merge_env(*layers: Mapping[str, str]) -> dict[str, str]:
    """Later layers win, except path lists (``PYTHONPATH``): a later layer's entries go first."""
    merged: dict[str, str] = {}
    for layer in layers:
        for key, value in layer.items():
            if key in PATH_LIST_VARS and merged.get(key) and value:
                merged[key] = os.pathsep.join([value, merged[key]])
            else:
                merged[key] = value
    return merged


def format_env(env: Mapping[str, str], shell: str = "sh") -> str:
    """Lines to paste or ``eval``: ``sh`` (``export K='v'``), ``fish`` (``set -gx``) or ``dotenv`` (``K=v``).

    In sh and fish, ``PYTHONPATH`` keeps the caller's own entries after ours."""
    lines = []
    for key, value in env.items():
        if shell == "sh":
            keep = f'"${{{key}:+:${key}}}"' if key in PATH_LIST_VARS else ""
            lines.append(f"export {key}={shlex.quote(value)}{keep}")
        elif shell == "fish":
            keep = f" ${key}" if key in PATH_LIST_VARS else ""
            lines.append(f"set -gx {key} {shlex.quote(value)}{keep}")
        elif shell == "dotenv":
            lines.append(f"{key}={_dotenv_quote(value)}")
        else:
            raise ValueError(f"unknown shell {shell!r}: use sh, fish or dotenv")
    return "\n".join(lines)


def _dotenv_quote(value: str) -> str:
    if value and all(c.isalnum() or c in "/._-:,@+=" for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
