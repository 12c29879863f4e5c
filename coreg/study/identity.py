"""Who the therapist and the client of a recording are, from its header.

Pairing pseudo-dyads *within a therapist* needs to know which sessions share a therapist, and
the study report groups sessions by therapist and by client. A recording says it in one of these
places, tried in this order (the first that gives a non-empty name wins, per role):

1. a top-level header field ``therapist`` / ``client``: a string, or an object with ``id`` or
   ``name`` (``{"therapist": {"id": "T07"}}``);
2. ``settings.therapist_name`` / ``settings.client_name`` (``coreg breathe --client-name`` writes
   the latter);
3. the role's device: ``roles.<role>.address``, else ``roles.<role>.name`` — a strap usually
   stays with its owner, so a therapist's own strap identifies the therapist across sessions.
   Simulated straps are named after the scenario (``sim:coupled:therapist``): every simulated
   session of one scenario then has "the same therapist".

Identities are pseudonyms as stored; nothing here looks anything up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Identity:
    """A person's identity in a study and where it came from.

    Attributes
    ----------
    person_id
        The name or id (``""`` when the header says nothing about the role).
    source
        ``"header"``, ``"settings"``, ``"device address"``, ``"device name"`` or ``"none"``.
    """

    person_id: str
    source: str


def _name(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Mapping):
        for key in ("id", "name"):
            v = value.get(key)
            if isinstance(v, str | int) and not isinstance(v, bool) and str(v).strip():
                return str(v).strip()
    return ""


def identity(header: Mapping[str, object], role: str) -> Identity:
    """The identity of ``role`` (``"therapist"``, ``"client"``, ...) in a recording header."""
    name = _name(header.get(role))
    if name:
        return Identity(name, "header")
    settings = header.get("settings")
    if isinstance(settings, Mapping):
        name = _name(settings.get(f"{role}_name"))
        if name:
            return Identity(name, "settings")
    roles = header.get("roles")
    device = roles.get(role) if isinstance(roles, Mapping) else None
    if isinstance(device, Mapping):
        for key, source in (("address", "device address"), ("name", "device name")):
            name = _name(device.get(key))
            if name:
                return Identity(name, source)
    return Identity("", "none")
