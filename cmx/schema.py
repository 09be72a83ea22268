"""A JSON Schema (draft 2020-12) of the KB files, generated from the model's records."""

from __future__ import annotations

import enum
import typing
from typing import Any

from cmx import kb as kbmod
from cmx import model
from cmx.kbfiles import FILES

SCHEMA_URL = "https://json-schema.org/draft/2020-12/schema"


def _type_schema(tp: Any, where: tuple[type, str], defs: dict[str, Any]) -> dict[str, Any]:
    tp, optional = kbmod._unwrap_optional(tp)
    schema = _inner(tp, where, defs)
    if optional:
        return {"anyOf": [schema, {"type": "null"}]}
    return schema


def _inner(tp: Any, where: tuple[type, str], defs: dict[str, Any]) -> dict[str, Any]:
    if typing.get_origin(tp) is tuple:
        item = typing.get_args(tp)[0]
        items = _type_schema(item, where, defs)
        if item is model.Citation:  # a bare source id is accepted too
            items = {"anyOf": [items, {"type": "string", "minLength": 1}]}
        return {"type": "array", "items": items}
    if tp is str:
        if where in kbmod.DATE_FIELDS:
            return {"type": "string", "pattern": kbmod.DATE_PATTERN}
        if where in kbmod.URL_FIELDS:
            return {"type": "string", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/?#]+[^\\s]*$"}
        if where in kbmod.ID_FIELDS:
            return {"type": "string", "pattern": kbmod.ID_PATTERN}
        return {"type": "string", "minLength": 1}
    if tp is bool:
        return {"type": "boolean"}
    if tp is float:
        return {"type": "number"}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"enum": [m.value for m in tp]}
    if kbmod.is_record(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # reserve the name first: records may nest
            defs[name] = _record(tp, defs)
        return {"$ref": f"#/$defs/{name}"}
    raise TypeError(f"no schema for {tp!r}")


def _record(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    if cls is model.Text:
        lang = {"type": "string", "minLength": 1}
        return {
            "type": "object",
            "description": "The same text in English, Spanish and French.",
            "properties": {code: lang for code in model.LANGS},
            "required": list(model.LANGS),
            "additionalProperties": False,
        }
    props: dict[str, Any] = {}
    required = []
    for name, tp, is_required in kbmod.fields_of(cls):
        props[name] = _type_schema(tp, (cls, name), defs)
        if is_required:
            required.append(name)
    if cls is model.Pillar:
        props["id"] = {"enum": list(model.PILLAR_IDS)}
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    if cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("):
        out["description"] = cls.__doc__.strip().splitlines()[0]
    return out


def kb_schema() -> dict[str, Any]:
    """One schema for any of the KB files: each is a mapping with one top-level list."""
    defs: dict[str, Any] = {}
    files = []
    for key, cls in kbmod.RECORD_TYPES.items():
        ref = _inner(cls, (cls, ""), defs)
        files.append(
            {
                "title": FILES[key],
                "type": "object",
                "properties": {key: {"type": "array", "items": ref}},
                "required": [key],
                "additionalProperties": False,
            }
        )
    return {
        "$schema": SCHEMA_URL,
        "$id": "https://cmx.invalid/schema/kb.json",
        "title": "cmx knowledge base file",
        "description": " or ".join(FILES.values()),
        "oneOf": files,
        "$defs": defs,
    }
