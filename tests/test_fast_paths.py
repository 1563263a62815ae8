"""Shortcuts taken for speed give the answers of the plain way: each is checked against it.

The needle precheck in `classify_line` skips a regex only where it could not match; `clean_line`
skips the whitespace fold only where it would change nothing; `parse_signoff` skips its searches
only where they cannot match."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataset.metadata import INITIALS_SIGNOFF, SIGNOFF, TIMESTAMP_LINE, YEAR_DIGITS, outlet_in, parse_signoff
from dataset.page import INVISIBLE, SPACES, clean_line, split_lines
from dataset.rules import LINE_RULES, literal_prefix
from tests.helpers import SEEDS

NEEDLED = [(rule, pattern, needle) for rule, patterns in LINE_RULES for pattern, _, needle in patterns if needle]


def test_most_unanchored_patterns_get_a_needle():
    assert len(NEEDLED) >= 25


@pytest.mark.parametrize("source, expected", [
    (r"pengeluaran\s+(?:sgp|hk)\b", "pengeluaran"),
    (r"e-?paper\b", "e"),
    (r"wa\s+channel", "wa"),
    (r"\([^()]*\bfoto\)", "("),
    (r"ab[|]c", "ab"),
    (r"ab|cd", ""),
    (r"(?:ab|cd)ef", ""),
    (r"abc*", "ab"),
    (r"ab{2}", "a"),
    (r"^abc", ""),
    (r"\bfoto", ""),
])
def test_literal_prefix(source, expected):
    assert literal_prefix(re.compile(source)) == expected


def test_ignorecase_pattern_has_no_needle():
    assert literal_prefix(re.compile("abc", re.IGNORECASE)) == ""


@pytest.mark.parametrize("rule, pattern, needle", NEEDLED, ids=[f"{r}:{n}" for r, _, n in NEEDLED])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_every_match_contains_its_needle(rule, pattern, needle, data):
    line = data.draw(st.from_regex(pattern, fullmatch=False))
    match = pattern.search(line)
    assert match is not None
    assert needle in line


def test_seed_lines_classify_the_same_without_needles():
    from dataset import rules

    lines = [line.text for path in sorted(SEEDS.glob("*.txt")) for line in split_lines(path.read_text(encoding="utf-8"))]
    with_needles = [rules.classify_line(line) for line in lines]
    original = rules.LINE_RULES
    rules.LINE_RULES = [(rule, [(p, c, "") for p, c, _ in patterns]) for rule, patterns in original]
    try:
        without = [rules.classify_line(line) for line in lines]
    finally:
        rules.LINE_RULES = original
    assert with_needles == without and any(with_needles)


LINE_ALPHABET = st.sampled_from(list("ab A.)(/-–—\t\u00a0\u2009\u200b\u3000\ufeff\r\x0b") + ["ant", "Rappler.com", "  "])


@settings(max_examples=400, deadline=None)
@given(st.lists(LINE_ALPHABET, max_size=30).map("".join))
def test_clean_line_equals_the_plain_fold(text):
    assert clean_line(text) == SPACES.sub(" ", INVISIBLE.sub("", text)).strip()


def plain_signoff(paragraph: str):
    match = SIGNOFF.search(paragraph)
    if match and outlet_in(match["outlet"]):
        return match.group(0), outlet_in(match["outlet"])
    match = INITIALS_SIGNOFF.search(paragraph)
    if match and paragraph[: match.start()].rstrip().endswith((".", "!", "?", "”", '"')):
        return match.group(0), None
    return None


@settings(max_examples=400, deadline=None)
@given(st.lists(LINE_ALPHABET, max_size=30).map("".join))
def test_parse_signoff_equals_the_plain_searches(text):
    assert parse_signoff(text) == plain_signoff(text)


@pytest.mark.parametrize("paragraph", ["Ia tiba di Moskwa. – Rappler.com", "Ia tiba di Moskwa. (ant/dwi)", "Ia tiba. (ant) ",
                                       "Tanpa tanda apa pun."])
def test_parse_signoff_examples_agree(paragraph):
    assert parse_signoff(paragraph) == plain_signoff(paragraph)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.from_regex(TIMESTAMP_LINE))
def test_every_timestamp_line_has_the_year_digits_the_precheck_wants(line):
    assert TIMESTAMP_LINE.match(line)
    assert YEAR_DIGITS.search(line)
