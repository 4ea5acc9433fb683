"""Baselines: what a scenario's events looked like when it was last accepted, and how a run drifted.

A GTM publish or a site release can silently change the event definitions (a parameter renamed, a value
gone, an event no longer fired) while every expectation a scenario names still passes. A baseline keeps the
*shape* of a run so the next run can be compared with it:

- the redirect chain: each hop's host, path (ID-like segments as ``{id}``) and kind; never query values;
- the click IDs that reached the landing URL, and the names (never the values) of the cookies set;
- the tag container that produced the hits: GA4's ``gtm`` build parameter, and the GTM / Google tag
  container IDs (with their version when the page exposed it), ``unknown`` otherwise;
- per vendor, its events in send order. Per event, *stable values* are kept as they are: the event name,
  ``account_id``, ``source``, ``currency``, the page path, the consent state, the form of each user-data
  identifier (``sha256``/``raw``), the names of the click IDs the hit carried and the item count. Values
  that differ per run or per order are kept as their *type* only: ``value``, ``transaction_id`` and
  ``event_id`` are ``number``/``string`` or ``null``. Every other parameter is kept as name -> type
  (``string``, ``number``, ``bool``, ``list``, ``object``, ``null``), nested ones as dotted paths
  (``event_params.coupon``, ``items.price``); a volatile parameter (the decoder's ``volatile_params`` plus
  ``BUILTIN_VOLATILE``: timestamps, random IDs, cache busters, session, click, order and event IDs) is
  ``volatile`` (or ``null``), because even its JSON type can flicker between runs.

So two runs of an unchanged site give byte-identical files. A baseline file lives next to its scenario
(``demo-purchase.scenario.yaml`` -> ``demo-purchase.baseline.yaml``) and holds one section per device and
conditions label. ``compare`` turns two sections into typed ``Drift``s whose ``path`` (``ga4.purchase.
params.event_params.coupon``, ``chain.1``, ``cookies._fbc``) the scenario's ``baseline_noise`` globs match.

Only the earlier stages are imported here (models, decoders); suite results are read by duck typing, so
the ``baseline_drift`` check can use this module without importing a later stage.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict

from harness.decoders.registry import DecoderRegistry, click_id_params, is_click_id
from harness.errors import BadInput
from harness.files import write_atomically
from harness.models import DecodedEvent, RunResult

if TYPE_CHECKING:  # results are a later stage: only their types are named here
    from harness.results import ScenarioRun, SuiteResult
    from harness.scenario import RunConditions

BASELINE_VERSION = 1
BASELINE_SUFFIX = ".baseline.yaml"
SCENARIO_SUFFIX = ".scenario.yaml"
UNKNOWN = "unknown"
VOLATILE = "volatile"

# Parameters whose values change on every run whatever the vendor, on top of each decoder's own list.
# fmt: off
BUILTIN_VOLATILE: frozenset[str] = frozenset(
    {
        # timestamps
        "ts", "timestamp", "time", "event_time", "event_at", "dtm", "stm", "sent_at", "sentAt", "_ts",
        # cache busters and random IDs
        "cb", "cachebuster", "random", "rnd", "rand", "_z", "z", "nonce", "uuid", "message_id",
        "messageId", "request_id", "pageview_id",
        # session and client IDs
        "sid", "session_id", "cid", "client_id", "_ga", "_gid", "anonymous_id", "anonymousId", "fbp", "_fbp",
        "ttp", "_ttp", "uid", "user_id",
        # order and event IDs
        "order_id", "orderId", "transaction_id", "ep.transaction_id", "event_id", "eventId", "eid",
        # click IDs (every vendor's: see volatile_names) and the cookies that carry them
        "fbc", "_fbc", "gclaw", "_gcl_aw", "callback",
    }
)
# fmt: on

# Cookies the harness itself sets (the demo shop's per-run bug switch): never part of a site's shape.
HARNESS_COOKIES: frozenset[str] = frozenset({"eventpath_bugs"})

# A path segment that names one order, session or object rather than a page.
_ID_SEGMENT = re.compile(
    r"^(\d{5,}|[0-9a-f]{16,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{20,})$",
    re.IGNORECASE,
)
_GTM_VERSION = re.compile(rb'"version"\s*:\s*"(\d+)"')
_CONTAINER_SCRIPTS = ("/gtm.js", "/gtag/js")
_ITEM_LIST_KEYS = ("items", "contents")

# --- building ------------------------------------------------------------------------------------


def baseline_path(scenario_file: str | Path) -> Path:
    """``scenarios/demo-purchase.scenario.yaml`` -> ``scenarios/demo-purchase.baseline.yaml``."""
    path = Path(scenario_file)
    name = path.name
    stem = name[: -len(SCENARIO_SUFFIX)] if name.endswith(SCENARIO_SUFFIX) else path.stem
    return path.with_name(stem + BASELINE_SUFFIX)


def section_key(device: str, conditions: RunConditions | None = None) -> str:
    """One section per device, and per conditions label when not the default: ``Pixel 7 [consent=reject]``."""
    label = conditions.label() if conditions is not None else ""
    return f"{device} [{label}]" if label else device


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "list"
    return "object"


def stable_path(path: str) -> str:
    """A URL path with the segments that name one order or session replaced by ``{id}``."""
    segments = [("{id}" if _ID_SEGMENT.match(s) else s) for s in (path or "/").split("/")]
    return "/".join(segments) or "/"


def _url_path(url: str | None) -> str | None:
    if not url:
        return None
    from urllib.parse import urlsplit

    try:
        return stable_path(urlsplit(url).path or "/")
    except ValueError:
        return None


@cache
def volatile_names(vendor: str) -> frozenset[str]:
    decoder = DecoderRegistry.default().by_vendor(vendor)
    own: frozenset[str] = decoder.volatile_params if decoder is not None else frozenset()
    return BUILTIN_VOLATILE | frozenset(click_id_params()) | frozenset(own)


def flatten_params(params: dict[str, Any], volatile: frozenset[str], prefix: str = "") -> dict[str, str]:
    """Parameter paths -> type. Objects are walked; a list of objects records the union of its items'
    fields (``items.price``), so an item losing its price shows as drift."""
    out: dict[str, str] = {}
    for key, value in params.items():
        path = f"{prefix}{key}"
        if key in volatile:
            out[path] = "null" if value is None else VOLATILE
        elif isinstance(value, dict) and value:
            out.update(flatten_params(value, volatile, path + "."))
        elif isinstance(value, list) and value and all(isinstance(i, dict) for i in value):
            out[path] = "list"
            fields: dict[str, set[str]] = {}
            for item in value:
                for sub, kind in flatten_params(item, volatile, path + ".").items():
                    fields.setdefault(sub, set()).add(kind)
            out.update({sub: "|".join(sorted(kinds)) for sub, kinds in fields.items()})
        else:
            out[path] = type_name(value)
    return out


def item_count(params: dict[str, Any]) -> int | None:
    """How many items/contents an ecommerce event carries (top level or one object down)."""
    for holder in (params, *(v for v in params.values() if isinstance(v, dict))):
        for key in _ITEM_LIST_KEYS:
            if isinstance(holder.get(key), list):
                return len(holder[key])
    return None


def event_shape(event: DecodedEvent) -> dict[str, Any]:
    """One event as the baseline keeps it (see the module docstring for what is kept how)."""
    consent = event.consent
    states = {
        name: getattr(consent, name)
        for name in ("ad_storage", "analytics_storage", "ad_user_data", "ad_personalization")
        if getattr(consent, name) is not None
    }
    shape: dict[str, Any] = {
        "event": event.event,
        "source": event.source,
        "account_id": event.account_id,
        "page": _url_path(event.page_url),
        "value": "number" if event.value is not None else None,
        "currency": event.currency,
        "transaction_id": "string" if event.transaction_id else None,
        "event_id": "string" if event.event_id else None,
    }
    items = item_count(event.params)
    if items is not None:
        shape["items"] = items
    shape["click_ids"] = sorted(event.click_ids)
    shape["consent"] = dict(sorted(states.items()))
    shape["user_data"] = dict(sorted(event.user_data.items()))
    if event.malformed:
        shape["malformed"] = True
    shape["params"] = dict(sorted(flatten_params(event.params, volatile_names(event.vendor)).items()))
    return shape


def container_shape(result: RunResult) -> dict[str, Any]:
    """The tag build behind the hits: GA4's ``gtm`` parameter and the containers the page loaded."""
    builds = sorted({str(e.params["gtm"]) for e in result.select("ga4") if e.params.get("gtm")})
    containers: dict[str, str] = {}
    for request in result.capture.requests:
        if not request.path.endswith(_CONTAINER_SCRIPTS):
            continue
        container_id = dict(request.query).get("id")
        if not container_id:
            continue
        found = _GTM_VERSION.search(request.response_body or b"")
        version = found.group(1).decode() if found else containers.get(container_id, UNKNOWN)
        containers[container_id] = version
    return {
        "gtm_build": ", ".join(builds) or UNKNOWN,
        "containers": dict(sorted(containers.items())) or UNKNOWN,
    }


def build_section(result: RunResult) -> dict[str, Any]:
    """The baseline section of one run, from its RunResult alone (what the check has)."""
    chain = result.capture.chain
    vendors: dict[str, list[dict[str, Any]]] = {}
    for event in result.events:
        vendors.setdefault(event.vendor, []).append(event_shape(event))
    return {
        "chain": [{"host": h.host, "path": _url_path(h.url) or "/", "kind": h.kind} for h in chain.hops],
        "click_ids_at_landing": sorted(
            p.param for p in chain.params if is_click_id(p.param) and p.reached_final
        ),
        "cookies": sorted({c.name for c in result.capture.cookies} - HARNESS_COOKIES),
        "container": container_shape(result),
        "vendors": dict(sorted(vendors.items())),
    }


def new_document(scenario: str) -> dict[str, Any]:
    return {"baseline_version": BASELINE_VERSION, "scenario": scenario, "sections": {}}


def build_baseline(run: ScenarioRun) -> dict[str, Any]:
    """A baseline document holding the one section of ``run``."""
    document = new_document(run.scenario)
    document["sections"][section_key(run.device, run.conditions)] = build_section(run.result)
    return document


# --- files ---------------------------------------------------------------------------------------

_HEADER = (
    "# eventpath baseline of scenario {scenario}: the shape its events had when last accepted.\n"
    "# Written by `eventpath run --update-baseline`; the baseline_drift check compares every run with it.\n"
    "# Values that change per run are kept as types only; see harness/baseline.py.\n"
)


def render_baseline(document: dict[str, Any]) -> str:
    """The document as YAML: sections sorted, keys in the order built, so equal shapes are equal bytes."""
    ordered = dict(document)
    ordered["sections"] = dict(sorted(document.get("sections", {}).items()))
    body = yaml.safe_dump(ordered, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000)
    return _HEADER.format(scenario=document.get("scenario", "?")) + body


def read_baseline(path: Path) -> dict[str, Any] | None:
    """The baseline document at ``path``; None when there is none. A file that is not one raises BadInput."""
    if not path.is_file():
        return None
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BadInput(f"{path}: not a readable baseline ({type(exc).__name__})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("sections"), dict):
        raise BadInput(f"{path}: not an eventpath baseline (no 'sections' mapping)")
    if document.get("baseline_version") != BASELINE_VERSION:
        raise BadInput(
            f"{path}: baseline_version {document.get('baseline_version')!r} is not {BASELINE_VERSION}"
        )
    return document


def write_baseline(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, render_baseline(document))


def why_not_baselined(run: ScenarioRun) -> str | None:
    """Why ``update_baselines`` leaves this run out (None: it writes it)."""
    if not run.file:
        return "its scenario file is not known"
    if run.bugs:
        return "demo bug switches were on"
    if run.result.capture.error:
        return f"the run did not finish ({run.result.capture.error})"
    return None


def update_baselines(suite: SuiteResult | Iterable[ScenarioRun]) -> list[Path]:
    """Write (or merge into) the baseline file of every eligible run; returns the files written.

    Sections of other devices/conditions already in a file are kept."""
    # Read one run at a time: a suite's runs need not all be in memory at once (``RunList``).
    runs: Iterable[ScenarioRun] = suite.runs if hasattr(suite, "runs") else suite  # type: ignore[union-attr]
    documents: dict[Path, dict[str, Any]] = {}
    for run in runs:
        if why_not_baselined(run) is not None:
            continue
        path = baseline_path(str(run.file))
        if path not in documents:
            documents[path] = read_baseline(path) or new_document(run.scenario)
        documents[path]["scenario"] = run.scenario
        documents[path]["sections"][section_key(run.device, run.conditions)] = build_section(run.result)
    for path, document in documents.items():
        write_baseline(path, document)
    return sorted(documents)


# --- comparing -----------------------------------------------------------------------------------

DriftKind = Literal[
    "event_appeared",
    "event_disappeared",
    "param_added",
    "param_removed",
    "param_type_changed",
    "value_became_null",
    "value_changed",
    "hop_added",
    "hop_removed",
    "click_id_lost",
    "cookie_lost",
    "cookie_added",
    "container_changed",
]

# Kinds that explain drift rather than being one: a new container version with identical events is fine.
INFORMATIONAL_KINDS: frozenset[str] = frozenset({"container_changed"})

# Event fields compared as values (the rest of an event's shape is compared per key).
_VALUE_FIELDS = (
    "source",
    "account_id",
    "page",
    "value",
    "currency",
    "transaction_id",
    "event_id",
    "items",
    "malformed",
)


class Drift(BaseModel):
    """One way a run differs from its baseline."""

    model_config = ConfigDict(extra="forbid")

    kind: DriftKind
    path: str  # ga4.purchase.params.event_params.coupon, chain.1, cookies._fbc, click_ids.gclid
    before: str | None = None
    after: str | None = None
    message: str
    vendor: str | None = None
    event: str | None = None
    occurrence: int | None = None  # 1-based, among the vendor's events of that name

    @property
    def informational(self) -> bool:
        return self.kind in INFORMATIONAL_KINDS


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


class _Collector:
    """Collects drifts, with the container change (if any) as the context of every message."""

    def __init__(self) -> None:
        self.drifts: list[Drift] = []
        self.context = ""

    def add(self, kind: DriftKind, path: str, before: Any, after: Any, message: str, **where: Any) -> None:
        text = f"{self.context}{message}" if kind not in INFORMATIONAL_KINDS else message
        self.drifts.append(
            Drift(kind=kind, path=path, before=_text(before), after=_text(after), message=text, **where)
        )


def compare(old: dict[str, Any], new: dict[str, Any], noise: Sequence[str] = ()) -> list[Drift]:
    """The drift from section ``old`` (the baseline) to section ``new`` (this run), minus known noise."""
    out = _Collector()
    _compare_container(out, old.get("container") or {}, new.get("container") or {})
    _compare_chain(out, old.get("chain") or [], new.get("chain") or [])
    _compare_names(
        out, "click_ids", old.get("click_ids_at_landing") or [], new.get("click_ids_at_landing") or []
    )
    _compare_names(out, "cookies", old.get("cookies") or [], new.get("cookies") or [])
    old_vendors, new_vendors = old.get("vendors") or {}, new.get("vendors") or {}
    for vendor in sorted(set(old_vendors) | set(new_vendors)):
        _compare_vendor(
            out, vendor, old_vendors.get(vendor) or [], new_vendors.get(vendor) or [], old_vendors
        )
    return [d for d in out.drifts if not is_noise(d, noise)]


def is_noise(drift: Drift, noise: Sequence[str]) -> bool:
    """A known-noise rule is a glob over drift paths (``ga4.*.params.event_params.debug_mode``)."""
    return any(fnmatch.fnmatchcase(drift.path, pattern) for pattern in noise)


def _compare_container(out: _Collector, old: dict[str, Any], new: dict[str, Any]) -> None:
    before, after = old.get("gtm_build", UNKNOWN), new.get("gtm_build", UNKNOWN)
    if before != after:
        out.add(
            "container_changed", "container.gtm_build", before, after, f"container build {before} -> {after}"
        )
        out.context = f"after container build {before} -> {after}, "
    old_tags, new_tags = old.get("containers"), new.get("containers")
    old_tags = old_tags if isinstance(old_tags, dict) else {}
    new_tags = new_tags if isinstance(new_tags, dict) else {}
    for container in sorted(set(old_tags) | set(new_tags)):
        was, now = old_tags.get(container), new_tags.get(container)
        if was == now:
            continue
        message = (
            f"container {container} version {was} -> {now}"
            if was and now
            else f"container {container} {'no longer loads' if was else 'now loads'}"
        )
        out.add("container_changed", f"container.containers.{container}", was, now, message)
        if not out.context and was and now:
            out.context = f"after {container} version {was} -> {now}, "


def _hop_text(hop: dict[str, Any]) -> str:
    return f"{hop.get('kind')} {hop.get('host')}{hop.get('path')}"


def _compare_chain(out: _Collector, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
    as_tuple = [tuple(sorted(h.items())) for h in old], [tuple(sorted(h.items())) for h in new]
    matcher = SequenceMatcher(a=as_tuple[0], b=as_tuple[1], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("delete", "replace"):
            for i in range(i1, i2):
                text = _hop_text(old[i])
                out.add("hop_removed", f"chain.{i}", text, None, f"redirect chain lost hop {i} ({text})")
        if tag in ("insert", "replace"):
            for j in range(j1, j2):
                text = _hop_text(new[j])
                out.add("hop_added", f"chain.{j}", None, text, f"redirect chain gained hop {j} ({text})")


def _compare_names(out: _Collector, what: str, old: list[str], new: list[str]) -> None:
    for name in sorted(set(old) - set(new)):
        if what == "click_ids":
            out.add(
                "click_id_lost", f"click_ids.{name}", name, None, f"{name} no longer reaches the landing URL"
            )
        else:
            out.add("cookie_lost", f"cookies.{name}", name, None, f"cookie {name} is no longer set")
    for name in sorted(set(new) - set(old)):
        if what == "click_ids":
            out.add("value_changed", f"click_ids.{name}", None, name, f"{name} now reaches the landing URL")
        else:
            out.add("cookie_added", f"cookies.{name}", None, name, f"cookie {name} is now set")


def _by_name(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        grouped.setdefault(str(event.get("event")), []).append(event)
    return grouped


def _compare_vendor(
    out: _Collector,
    vendor: str,
    old: list[dict[str, Any]],
    new: list[dict[str, Any]],
    old_vendors: dict[str, Any],
) -> None:
    old_named, new_named = _by_name(old), _by_name(new)
    for name in [*old_named, *(n for n in new_named if n not in old_named)]:
        was, now = old_named.get(name, []), new_named.get(name, [])
        base = f"{vendor}.{name}"
        for index in range(max(len(was), len(now))):
            where = {"vendor": vendor, "event": name, "occurrence": index + 1}
            label = f"{vendor} {name}" + (f" #{index + 1}" if index else "")
            if index >= len(now):
                message = (
                    f"{label} disappeared"
                    if not now
                    else f"{vendor} {name} fired {len(now)} times, baseline {len(was)}"
                )
                out.add("event_disappeared", base, name, None, message, **where)
            elif index >= len(was):
                if was:
                    message = f"{vendor} {name} fired {len(now)} times, baseline {len(was)}"
                elif vendor not in old_vendors:
                    message = f"{label} appeared (vendor {vendor} is not in the baseline)"
                else:
                    message = f"{label} appeared"
                out.add("event_appeared", base, None, name, message, **where)
            else:
                _compare_event(out, base, label, was[index], now[index], where)


def _compare_event(
    out: _Collector, base: str, label: str, old: dict[str, Any], new: dict[str, Any], where: dict[str, Any]
) -> None:
    for field in _VALUE_FIELDS:
        before, after = old.get(field), new.get(field)
        if before == after:
            continue
        if after is None:
            out.add("value_became_null", f"{base}.{field}", before, None, f"{label} lost {field}", **where)
        else:
            out.add(
                "value_changed",
                f"{base}.{field}",
                before,
                after,
                f"{label} {field} changed {_text(before)} -> {_text(after)}",
                **where,
            )
    old_ids, new_ids = set(old.get("click_ids") or []), set(new.get("click_ids") or [])
    for name in sorted(old_ids - new_ids):
        out.add(
            "click_id_lost", f"{base}.click_ids.{name}", name, None, f"{label} lost click ID {name}", **where
        )
    for name in sorted(new_ids - old_ids):
        out.add(
            "value_changed",
            f"{base}.click_ids.{name}",
            None,
            name,
            f"{label} now carries click ID {name}",
            **where,
        )
    _compare_states(
        out, f"{base}.consent", f"{label} consent", old.get("consent") or {}, new.get("consent") or {}, where
    )
    _compare_states(
        out,
        f"{base}.user_data",
        f"{label} user data",
        old.get("user_data") or {},
        new.get("user_data") or {},
        where,
    )
    _compare_params(out, base, label, old.get("params") or {}, new.get("params") or {}, where)


def _compare_states(
    out: _Collector, path: str, label: str, old: dict[str, Any], new: dict[str, Any], where: dict[str, Any]
) -> None:
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if after is None:
            out.add(
                "param_removed",
                f"{path}.{key}",
                before,
                None,
                f"{label} no longer has {key} ({before})",
                **where,
            )
        elif before is None:
            out.add("param_added", f"{path}.{key}", None, after, f"{label} gained {key} ({after})", **where)
        else:
            out.add(
                "value_changed",
                f"{path}.{key}",
                before,
                after,
                f"{label} {key} changed {before} -> {after}",
                **where,
            )


def _compare_params(
    out: _Collector, base: str, label: str, old: dict[str, str], new: dict[str, str], where: dict[str, Any]
) -> None:
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        path = f"{base}.params.{name}"
        if before == after:
            continue
        if after is None:
            out.add("param_removed", path, before, None, f"{label} lost {name}", **where)
        elif before is None:
            out.add("param_added", path, None, after, f"{label} gained {name} ({after})", **where)
        elif after == "null":
            out.add(
                "value_became_null",
                path,
                before,
                after,
                f"{label} {name} became null (was {before})",
                **where,
            )
        else:
            out.add(
                "param_type_changed",
                path,
                before,
                after,
                f"{label} {name} changed type {before} -> {after}",
                **where,
            )


def section_of(
    document: dict[str, Any] | None, device: str, conditions: RunConditions | None = None
) -> dict[str, Any] | None:
    """The section of ``document`` for this device and conditions, if it has one."""
    if not document:
        return None
    section = document.get("sections", {}).get(section_key(device, conditions))
    return section if isinstance(section, dict) else None


def drift_of_run(
    scenario_file: str | Path,
    result: RunResult,
    conditions: RunConditions | None = None,
    noise: Sequence[str] = (),
) -> list[Drift] | None:
    """The drift of one run from the baseline beside its scenario file; None when there is no baseline
    (or no section for this device and conditions)."""
    stored = section_of(read_baseline(baseline_path(scenario_file)), result.capture.device, conditions)
    if stored is None:
        return None
    return compare(stored, build_section(result), noise)
