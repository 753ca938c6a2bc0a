"""Filings in and out of data files (YAML / JSON). Workbooks are handled by perfxl.workbook."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from .atomic import write_text
from .dataio import load_model
from .errors import InputError, Problem
from .model import Filing

DATA_SUFFIXES = (".yaml", ".yml", ".json")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


def load_filing_ex(path: Path) -> tuple[Filing, list[Problem]]:
    """A filing from a YAML/JSON file or a filled workbook, with reading notes (warnings)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in DATA_SUFFIXES:
        return load_model(Filing, path), []
    if suffix in WORKBOOK_SUFFIXES:
        from .workbook.read import read_workbook_ex

        return read_workbook_ex(path)
    if suffix in (".xls", ".et"):
        raise InputError(
            Problem(
                str(path), "", f"不支持 {suffix} 格式，请在 Excel 或 WPS 中另存为 .xlsx 后再处理"
            )
        )
    raise InputError(
        Problem(str(path), "", "不认识的文件类型：应为 .yaml/.json 填报数据，或 .xlsx/.xlsm 工作簿")
    )


def load_filing(path: Path) -> Filing:
    """A filing from a YAML/JSON file or a filled workbook, whichever `path` is."""
    return load_filing_ex(path)[0]


def _plain(value: Any) -> Any:
    """Decimals as exact numbers for YAML, as strings for JSON; drop empty values."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: object) -> bool:
        """Never write anchors (&) or aliases (*): the reader refuses them (a YAML bomb
        needs them), so a value that appears twice is written out twice."""
        return True


def _decimal_repr(dumper: yaml.SafeDumper, d: Decimal) -> yaml.Node:
    text = format(d, "f")
    if "." not in text:
        return dumper.represent_scalar("tag:yaml.org,2002:int", text)
    return dumper.represent_scalar("tag:yaml.org,2002:float", text)


_Dumper.add_representer(Decimal, _decimal_repr)


def filing_to_yaml(filing: Filing) -> str:
    data = _plain(filing.model_dump(mode="python"))
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


def filing_to_json(filing: Filing) -> str:
    return json.dumps(_plain(filing.model_dump(mode="json")), ensure_ascii=False, indent=2)


def save_filing(filing: Filing, path: Path) -> None:
    text = filing_to_json(filing) if path.suffix.lower() == ".json" else filing_to_yaml(filing)
    write_text(path, text)
