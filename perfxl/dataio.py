"""Loading YAML and JSON data files exactly, and explaining what is wrong with them.

Numbers are read as Decimal straight from their text (99.85 stays 99.85, never a binary
float), and every value's line is remembered so a problem can be pointed at in the file.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import InputError, Problem

M = TypeVar("M", bound=BaseModel)
Path_ = tuple[str | int, ...]

MAX_DATA_BYTES = 20 * 1024 * 1024


# libyaml's parser when PyYAML has it (several times faster: every `perfxl check` loads a
# profile); the same safe constructors and resolver either way
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DecimalLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """SafeLoader whose floats are Decimals."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = loader.construct_scalar(node).replace("_", "")
    return Decimal(text)


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


def _lines(node: yaml.Node, path: Path_, out: dict[Path_, int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value
            out[(*path, k)] = key.start_mark.line + 1
            _lines(value, (*path, k), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*path, i), out)


def load_data(path: Path) -> tuple[Any, dict[Path_, int]]:
    """Read a YAML or JSON file into plain data with Decimals, plus a path → line map."""
    name = str(path)
    if not path.exists():
        raise InputError(Problem(name, "", "文件不存在 (file not found)"))
    if path.stat().st_size > MAX_DATA_BYTES:
        raise InputError(Problem(name, "", f"文件过大（超过 {MAX_DATA_BYTES // 1048576} MB）"))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(Problem(name, "", "文件不是 UTF-8 编码的文本，请另存为 UTF-8")) from exc
    if path.suffix.lower() == ".json":
        _check_json_depth(text, name)
        try:
            return json.loads(text, parse_float=Decimal), {}
        except json.JSONDecodeError as exc:
            raise InputError(
                Problem(name, f"第 {exc.lineno} 行第 {exc.colno} 列", f"JSON 格式错误：{exc.msg}")
            ) from exc
        except (ValueError, RecursionError) as exc:  # a 5,000-digit integer, say
            raise InputError(Problem(name, "", f"JSON 内容无法读取：{str(exc)[:120]}")) from exc
    try:
        _check_yaml_events(text, name)
        data = yaml.load(text, Loader=_DecimalLoader)
        node = yaml.compose(text, Loader=_SafeLoader)
    except (ValueError, RecursionError) as exc:
        raise InputError(Problem(name, "", f"YAML 内容无法读取：{str(exc)[:120]}")) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise InputError(Problem(name, place, f"YAML 格式错误：{reason}")) from exc
    lines: dict[Path_, int] = {}
    if node is not None:
        _lines(node, (), lines)
    return data, lines


# A filing nests five levels deep; a hundred is far beyond any data file perfxl reads, and
# well within what the parsers handle without exhausting the stack.
MAX_DEPTH = 100
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _too_deep(name: str, place: str) -> InputError:
    return InputError(
        Problem(
            name,
            place,
            f"数据嵌套超过 {MAX_DEPTH} 层，不像一份填报数据或评价框架（可能是异常或恶意文件），已拒绝读取",
        )
    )


def _check_json_depth(text: str, name: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH before the parser recurses into it."""
    depth = 0
    for m in _JSON_TOKENS.finditer(text):
        ch = m[0]
        if ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, m.start()) + 1
                raise _too_deep(name, f"第 {line} 行")
        elif ch in "]}":
            depth -= 1


def _check_yaml_events(text: str, name: str) -> None:
    """Refuse anchors and aliases (a 1 KB "billion laughs" document expands to gigabytes)
    and nesting deeper than MAX_DEPTH, from the parser's event stream, before any node or
    object is built. perfxl's data files never need either."""
    depth = 0
    for event in yaml.parse(text, Loader=_SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            mark = event.start_mark
            raise InputError(
                Problem(
                    name,
                    f"第 {mark.line + 1} 行第 {mark.column + 1} 列",
                    "YAML 中使用了锚点或别名（& / *），perfxl 的数据文件不需要也不接受："
                    "请把引用的内容直接写出",
                )
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(name, f"第 {event.start_mark.line + 1} 行")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def read_csv_text(path: Path) -> str:
    """A CSV's text: UTF-8 (with or without BOM), else GB18030 as Excel on Chinese Windows saves."""
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError(Problem(str(path), "", "CSV 文件编码无法识别，请另存为 UTF-8"))


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def place_of(path: Path_, lines: dict[Path_, int]) -> str:
    """'第 N 行 a.b[2].c' for the deepest part of path that has a known line."""
    for cut in range(len(path), -1, -1):
        if path[:cut] in lines:
            return f"第 {lines[path[:cut]]} 行 {dotted(path)}".rstrip()
    return dotted(path)


_TYPE_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "不认识的字段（拼写错误？）",
    "unexpected_keyword_argument": "不认识的字段（拼写错误？）",  # in a dataclass (Source)
    "decimal_parsing": "应为数字",
    "decimal_type": "应为数字",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "string_type": "应为文字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表",
    "dict_type": "应为键值表",
    "model_type": "应为键值表",
    "dataclass_type": "应为键值表",
    "dataclass_args_type": "应为键值表",
    "greater_than_equal": "不能小于",
    "less_than_equal": "不能大于",
    "decimal_max_places": "小数位数过多",
    "finite_number": "应为有限的数字",
}


def explain(exc: ValidationError, file: str, lines: dict[Path_, int]) -> list[Problem]:
    """Pydantic errors → Chinese problems located by line and field path."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p[:1].isupper()))
        kind = err["type"]
        ctx = err.get("ctx") or {}
        if kind == "union_tag_invalid":
            msg = f"未知的类型「{ctx.get('tag')}」，可用的有：{ctx.get('expected_tags')}"
        elif kind == "literal_error":
            msg = f"取值「{err.get('input')}」不允许，应为：{ctx.get('expected')}"
        elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            bound = next(iter(ctx.values()), "")
            word = {
                "greater_than_equal": "不能小于",
                "less_than_equal": "不能大于",
                "greater_than": "应大于",
                "less_than": "应小于",
            }[kind]
            msg = f"{word} {bound}（填的是 {err.get('input')}）"
        elif kind == "value_error":
            msg = str(ctx.get("error", err["msg"]))
        elif kind in _TYPE_MESSAGES:
            msg = _TYPE_MESSAGES[kind]
            if kind != "missing":
                msg += f"（填的是「{err.get('input')}」）"
        else:
            msg = f"取值不正确：{err['msg']}"
        problems.append(Problem(file, place_of(loc, lines), msg))
    return problems


def parse_model(model: type[M], data: Any, file: str, lines: dict[Path_, int]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(explain(exc, file, lines)) from exc


def load_model(model: type[M], path: Path) -> M:
    data, lines = load_data(path)
    if not isinstance(data, dict):
        raise InputError(Problem(str(path), "", "文件内容应为键值表（YAML 映射或 JSON 对象）"))
    return parse_model(model, data, str(path), lines)
