"""Profile loading: shipped profiles are valid; a bureau's broken file gets every problem located."""

from pathlib import Path

import pytest

from perfxl.errors import InputError
from perfxl.profile import load_profile, load_profile_file, shipped_profiles

GOOD = """\
id: city-x
version: "1"
title: 测试框架
kind: department
grades:
  - {label: 优, min: 90}
  - {label: 差, min: 0}
indicators:
  - code: "1"
    name: 投入
    weight: 40
    children:
      - {code: "1.1", name: 甲, weight: 15, rule: {kind: manual}}
      - {code: "1.2", name: 乙, weight: 25, rule: {kind: ratio}}
  - code: "2"
    name: 效果
    weight: 60
    children:
      - {code: "2.1", name: 丙, weight: 60, rule: {kind: penalty, bound: 100, side: over, per_point: 0.5}}
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "my-profile.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def _problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_profile_file(path)
    return [str(p) for p in info.value.problems]


def test_shipped_profiles_are_the_three_of_the_issue():
    assert set(shipped_profiles()) == {"project-2020", "dept-hubei", "dept-guangdong"}
    assert load_profile("dept-guangdong").node("2.5.1").weight == 0.5


def test_a_good_bureau_profile_loads(tmp_path):
    p = load_profile_file(_write(tmp_path, GOOD))
    assert p.node("2.1").rule.kind == "penalty"


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    msgs = _problems(_write(tmp_path, GOOD.replace("title: 测试框架", "title: [测试框架")))
    assert len(msgs) == 1
    assert "my-profile.yaml" in msgs[0] and "YAML 格式错误" in msgs[0] and "行" in msgs[0]


def test_missing_field_is_named(tmp_path):
    msgs = _problems(_write(tmp_path, GOOD.replace("title: 测试框架\n", "")))
    assert any("缺少必填项" in m and "title" in m for m in msgs)


def test_text_where_a_number_belongs(tmp_path):
    msgs = _problems(_write(tmp_path, GOOD.replace("weight: 15,", "weight: 十五,")))
    assert any("第 13 行" in m and "weight" in m and "应为数字" in m for m in msgs), msgs


def test_weights_that_do_not_add_up_are_all_reported(tmp_path):
    text = GOOD.replace("weight: 15,", "weight: 14,").replace(
        "weight: 60\n    children", "weight: 61\n    children"
    )
    msgs = _problems(_write(tmp_path, text))
    assert any("「投入」分值 40 与下级分值合计 39 不等" in m and "第 11 行" in m for m in msgs), (
        msgs
    )
    assert any("一级指标分值合计 101 与总分 100 不等" in m for m in msgs), msgs


def test_duplicate_codes(tmp_path):
    msgs = _problems(_write(tmp_path, GOOD.replace('code: "1.2"', 'code: "1.1"')))
    assert any("编码「1.1」重复" in m for m in msgs), msgs


def test_unknown_rule_kind(tmp_path):
    msgs = _problems(_write(tmp_path, GOOD.replace("kind: ratio", "kind: magic")))
    assert any("未知的类型「magic」" in m and "第 14 行" in m for m in msgs), msgs


def test_bad_bands_and_grades(tmp_path):
    text = GOOD.replace(
        "rule: {kind: ratio}",
        "rule: {kind: bands, bands: [{min: 90, score: 30}, {min: 50, max: 60, score: 1}]}",
    ).replace("{label: 差, min: 0}", "{label: 差, min: 95}")
    msgs = _problems(_write(tmp_path, text))
    assert any("分档得分 30 超过「乙」的分值 25" in m for m in msgs), msgs
    assert any("兜底档" in m for m in msgs), msgs
    assert any("等级应按下限从高到低排列" in m for m in msgs), msgs
    assert any("最低一档等级的下限应为 0" in m for m in msgs), msgs


def test_unknown_profile_id_lists_the_shipped_ones():
    with pytest.raises(InputError) as info:
        load_profile("project-2099")
    assert "没有这个评价框架" in str(info.value) and "project-2020" in str(info.value)
