"""Frozen dataclasses ↔ JSON values, driven by their type hints.

The snapshots of `tui.model.snapshots` cross the wire as they are: one codec,
generic over the dataclasses' hints, so a field added there needs no code
here (the schema fingerprint in the hello tells two versions apart). Encoding
leaves out fields equal to their default (a task row is a few hundred bytes);
decoding is strict: a wrong type, a missing field or an unknown one is a
`DecodeError` of one line naming the field, never a half-built object. Text
stays text: nothing decoded is interpreted.

Supported hints: ``int``, ``float``, ``str``, ``bool``, ``None``, ``X | None``,
unions of dataclasses (tagged with ``"_t"``), ``tuple[X, ...]``,
``tuple[X, Y]``, ``frozenset[X]``, ``dict[str, X]``, and dataclasses of these.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import types
import typing
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")
Encode = Callable[[Any], Any]
Decode = Callable[[Any, str], Any]
#: The key naming the class of a value whose hint is a union of dataclasses.
TAG = "_t"
_MISSING = dataclasses.MISSING


class DecodeError(ValueError):
    """A JSON value that is not what the hint says: one line, with the path to it."""


def encode(tp: Any, value: Any) -> Any:
    """``value`` (of hint ``tp``) as a JSON value."""
    return _encoder(tp)(value)


def decode(tp: Any, value: Any, where: str = "") -> Any:
    """The JSON ``value`` as hint ``tp`` says, or `DecodeError`."""
    return _decoder(tp)(value, where or _name(tp))


def fingerprint(*roots: type) -> str:
    """A short hash of the field names and hints reachable from ``roots``: two
    sides with the same fingerprint decode each other's values (the same on
    every Python version: hints are spelled here, not by ``repr``)."""
    seen: dict[str, str] = {}

    def visit(tp: Any) -> None:
        for arg in typing.get_args(tp):
            visit(arg)
        if dataclasses.is_dataclass(tp) and tp.__qualname__ not in seen:
            hints = _hints(tp)
            seen[tp.__qualname__] = ",".join(f"{f.name}:{_spell(hints[f.name])}" for f in dataclasses.fields(tp))
            for f in dataclasses.fields(tp):
                visit(hints[f.name])

    for root in roots:
        visit(root)
    text = ";".join(f"{k}({v})" for k, v in sorted(seen.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _spell(tp: Any) -> str:
    if tp is Ellipsis:
        return "..."
    if _is_union(tp):
        return "|".join(sorted(_spell(a) for a in typing.get_args(tp)))
    origin = typing.get_origin(tp)
    if origin is not None:
        return f"{_name(origin)}[{','.join(_spell(a) for a in typing.get_args(tp))}]"
    return "None" if tp is type(None) else _name(tp)


# --- building the functions once per hint -----------------------------------------


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or repr(tp)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _fail(where: str, want: str, value: Any) -> DecodeError:
    return DecodeError(f"{where}: expected {want}, got {_show(value)}")


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


@cache
def _encoder(tp: Any) -> Encode:
    if tp in (int, float, str, bool, type(None), Any):
        return _same
    if _is_union(tp):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(options) == 1:
            inner = _encoder(options[0])
            return lambda v: None if v is None else inner(v)
        tagged = {cls: _encoder(cls) for cls in options if dataclasses.is_dataclass(cls)}
        if len(tagged) != len(options):
            raise TypeError(f"unsupported union {tp!r}")
        return lambda v: None if v is None else {TAG: type(v).__name__, **tagged[type(v)](v)}
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (tuple, frozenset):
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            parts = [_encoder(a) for a in args]
            return lambda v: [e(x) for e, x in zip(parts, v)]
        inner = _encoder(args[0])
        if origin is frozenset:
            return lambda v: sorted(inner(x) for x in v)
        return lambda v: [inner(x) for x in v]
    if origin is dict:
        inner = _encoder(args[1])
        return lambda v: {k: inner(x) for k, x in v.items()}
    if dataclasses.is_dataclass(tp):
        return _dataclass_encoder(tp)
    raise TypeError(f"no JSON encoding for {tp!r}")


def _same(value: Any) -> Any:
    return value


def _dataclass_encoder(cls: type) -> Encode:
    hints = _hints(cls)
    plan = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not _MISSING else (
            f.default_factory() if f.default_factory is not _MISSING else _MISSING)  # type: ignore[misc]
        plan.append((f.name, _encoder(hints[f.name]), default))

    def enc(value: Any) -> dict[str, Any]:
        out = {}
        for name, inner, default in plan:
            v = getattr(value, name)
            if default is not _MISSING and v == default and type(v) is type(default):
                continue  # the other side fills it in
            out[name] = inner(v)
        return out

    return enc


@cache
def _decoder(tp: Any) -> Decode:
    if tp is Any:
        return lambda v, where: v
    if tp is type(None):
        return _none
    if tp is bool:
        return _bool
    if tp is int:
        return _int
    if tp is float:
        return _float
    if tp is str:
        return _str
    if _is_union(tp):
        return _union_decoder(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            inner = _decoder(args[0])
            return lambda v, where: tuple(inner(x, f"{where}[{i}]") for i, x in enumerate(_list(v, where)))
        parts = [_decoder(a) for a in args]

        def fixed(v: Any, where: str) -> tuple[Any, ...]:
            items = _list(v, where)
            if len(items) != len(parts):
                raise _fail(where, f"{len(parts)} items", v)
            return tuple(d(x, f"{where}[{i}]") for i, (d, x) in enumerate(zip(parts, items)))

        return fixed
    if origin is frozenset:
        inner = _decoder(args[0])
        return lambda v, where: frozenset(inner(x, f"{where}[{i}]") for i, x in enumerate(_list(v, where)))
    if origin is dict:
        if args[0] is not str:
            raise TypeError(f"only str keys cross the wire, not {tp!r}")
        inner = _decoder(args[1])

        def mapping(v: Any, where: str) -> dict[str, Any]:
            if not isinstance(v, dict):
                raise _fail(where, "an object", v)
            return {k: inner(x, f"{where}.{k}") for k, x in v.items()}

        return mapping
    if dataclasses.is_dataclass(tp):
        return _dataclass_decoder(tp)
    raise TypeError(f"no JSON decoding for {tp!r}")


def _none(v: Any, where: str) -> None:
    if v is not None:
        raise _fail(where, "null", v)


def _bool(v: Any, where: str) -> bool:
    if type(v) is not bool:
        raise _fail(where, "true or false", v)
    return v


def _int(v: Any, where: str) -> int:
    if type(v) is not int:
        raise _fail(where, "an integer", v)
    return v


def _float(v: Any, where: str) -> float:
    if type(v) is float and math.isfinite(v):
        return v
    if type(v) is int:
        return float(v)
    raise _fail(where, "a finite number", v)


def _str(v: Any, where: str) -> str:
    if type(v) is not str:
        raise _fail(where, "a string", v)
    return v


def _list(v: Any, where: str) -> list[Any]:
    if not isinstance(v, list):
        raise _fail(where, "a list", v)
    return v


def _union_decoder(tp: Any) -> Decode:
    options = [a for a in typing.get_args(tp) if a is not type(None)]
    optional = len(options) < len(typing.get_args(tp))
    if len(options) == 1:
        inner = _decoder(options[0])

        def maybe(v: Any, where: str) -> Any:
            return None if v is None and optional else inner(v, where)

        return maybe
    by_tag = {cls.__name__: _decoder(cls) for cls in options}

    def tagged(v: Any, where: str) -> Any:
        if v is None and optional:
            return None
        if not isinstance(v, dict):
            raise _fail(where, "an object", v)
        body = dict(v)
        tag = body.pop(TAG, None)
        inner = by_tag.get(tag) if isinstance(tag, str) else None
        if inner is None:
            raise _fail(f"{where}.{TAG}", " or ".join(by_tag), tag)
        return inner(body, where)

    return tagged


#: Hints whose values are taken as they are when their type is exactly this
#: (or None, for the optional ones): no call, no path built (a snapshot has
#: tens of thousands of such fields). Anything else goes through its decoder.
_PLAIN: dict[Any, tuple[type, bool]] = {int: (int, False), str: (str, False), bool: (bool, False),
                                        int | None: (int, True), str | None: (str, True),
                                        bool | None: (bool, True)}


def _dataclass_decoder(cls: type) -> Decode:
    hints = _hints(cls)
    plan = {f.name: (_decoder(hints[f.name]),
                     f.default is _MISSING and f.default_factory is _MISSING)  # type: ignore[misc]
            for f in dataclasses.fields(cls) if f.init}
    plain = {name: _PLAIN[hints[name]] for name in plan if hints[name] in _PLAIN}
    required = [name for name, (_, req) in plan.items() if req]

    def dec(v: Any, where: str) -> Any:
        if not isinstance(v, dict):
            raise _fail(where, f"a {cls.__name__} object", v)
        for name in v:
            if name not in plan:
                raise DecodeError(f"{where}: unknown field {_show(name)}")
        for name in required:
            if name not in v:
                raise DecodeError(f"{where}: missing field {name!r}")
        kwargs = {}
        for name, x in v.items():
            fast = plain.get(name)
            if fast is not None and (type(x) is fast[0] or (x is None and fast[1])):
                kwargs[name] = x
            else:
                kwargs[name] = plan[name][0](x, f"{where}.{name}")
        try:
            return cls(**kwargs)
        except (TypeError, ValueError) as exc:  # a __post_init__ that refuses the values
            raise DecodeError(f"{where}: {exc}") from None

    return dec
