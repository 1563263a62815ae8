"""Gold adjudication and agreement numbers, checked against values worked out by hand."""

from __future__ import annotations

import dataclasses
import json
import math
import warnings

import krippendorff
import numpy as np
import pytest

from annotation.agreement import NO_PAIRABLE_UNITS, NO_SHARED_ITEMS, NO_SPANS, SpanCounts, agreement
from annotation.gold import (
    GROUND_TRUTH_DISAGREEMENT,
    SPAN_BELOW_QUORUM,
    SPAN_OVERLAP,
    STANCE_NO_MAJORITY,
    adjudicate,
)
from annotation.judgements import Judgement
from annotation.spans import Span

TARGETS = ("Rusia", "Ukraina")
LABELS = ("PER", "ORG", "GPE")
A, F, N = "AGAINST", "FAVOR", "NONE"


def per(start: int, end: int) -> Span:
    return Span(start, end, "PER")


def org(start: int, end: int) -> Span:
    return Span(start, end, "ORG")


def gpe(start: int, end: int) -> Span:
    return Span(start, end, "GPE")


def judge(article: str, annotator: str, spans: tuple[Span, ...], stance: dict[str, str], gt: bool = False) -> Judgement:
    return Judgement(article, annotator, spans, stance, ground_truth=gt)


# Three annotators (ana, budi, citra), one expert reference (ahli), five articles.
# a1: 2-1 stance split; budi's ORG ends early.
# a2: 1-1-1 stance tie; nested ORG "Universitas Indonesia" (0,21) with GPE "Indonesia" (12,21).
# a3: 1-1 tie (citra did not answer Rusia); three different PER boundaries.
# a4: ground truth overrides a unanimous Rusia answer.
# a5: only citra.
JUDGEMENTS = (
    judge("a1", "ana", (per(0, 5), org(10, 20), gpe(30, 35)), {"Rusia": A, "Ukraina": F}),
    judge("a1", "budi", (per(0, 5), org(10, 18), gpe(30, 35)), {"Rusia": A, "Ukraina": F}),
    judge("a1", "citra", (per(0, 5), org(10, 20)), {"Rusia": N, "Ukraina": F}),
    judge("a2", "ana", (org(0, 21), gpe(12, 21)), {"Rusia": F, "Ukraina": N}),
    judge("a2", "budi", (org(0, 21), gpe(12, 21)), {"Rusia": A, "Ukraina": N}),
    judge("a2", "citra", (org(0, 21), per(30, 36)), {"Rusia": N}),
    judge("a3", "ana", (per(0, 10), org(20, 30)), {"Rusia": A, "Ukraina": F}),
    judge("a3", "budi", (per(0, 8), org(20, 30), org(40, 45)), {"Rusia": F, "Ukraina": F}),
    judge("a3", "citra", (per(2, 10),), {"Ukraina": A}),
    judge("a4", "ana", (per(0, 4),), {"Rusia": A, "Ukraina": F}),
    judge("a4", "budi", (per(0, 4),), {"Rusia": A, "Ukraina": F}),
    judge("a4", "ahli", (per(0, 4), gpe(10, 15)), {"Rusia": N, "Ukraina": F}, gt=True),
    judge("a5", "citra", (gpe(3, 9),), {"Rusia": F}),
)


def conflict_keys(result) -> list[tuple]:
    return [(c.kind, c.article_id, c.target if c.span is None else c.span) for c in result.conflicts]


# ---------------------------------------------------------------- gold


def test_majority_gold_picks() -> None:
    gold = adjudicate(JUDGEMENTS, TARGETS).gold
    assert list(gold) == ["a1", "a2", "a3", "a4", "a5"]
    assert gold["a1"].source == "majority" and gold["a1"].annotators == 3
    assert dict(gold["a1"].stance) == {"Rusia": A, "Ukraina": F}
    assert gold["a1"].spans == (per(0, 5), org(10, 20), gpe(30, 35))
    assert dict(gold["a2"].stance) == {"Ukraina": N}
    assert dict(gold["a3"].stance) == {"Ukraina": F}
    assert gold["a3"].spans == (org(20, 30),)


def test_ties_are_conflicts_not_guesses() -> None:
    result = adjudicate(JUDGEMENTS, TARGETS)
    assert "Rusia" not in result.gold["a2"].stance
    assert "Rusia" not in result.gold["a3"].stance
    rusia = {c.article_id: c for c in result.conflicts if c.kind == STANCE_NO_MAJORITY}
    assert rusia["a2"].votes == (("ana", F), ("budi", A), ("citra", N))
    assert rusia["a3"].votes == (("ana", A), ("budi", F))
    assert rusia["a3"].target == "Rusia"


def test_conflicts_are_complete_and_ordered() -> None:
    result = adjudicate(JUDGEMENTS, TARGETS)
    assert conflict_keys(result) == [
        (SPAN_BELOW_QUORUM, "a1", org(10, 18)),
        (STANCE_NO_MAJORITY, "a2", "Rusia"),
        (SPAN_BELOW_QUORUM, "a2", per(30, 36)),
        (SPAN_OVERLAP, "a2", org(0, 21)),
        (SPAN_OVERLAP, "a2", gpe(12, 21)),
        (STANCE_NO_MAJORITY, "a3", "Rusia"),
        (SPAN_BELOW_QUORUM, "a3", per(0, 8)),
        (SPAN_BELOW_QUORUM, "a3", per(0, 10)),
        (SPAN_BELOW_QUORUM, "a3", per(2, 10)),
        (SPAN_BELOW_QUORUM, "a3", org(40, 45)),
    ]
    below = result.conflicts[0]
    assert below.annotators == ("budi",)
    assert result == adjudicate(reversed(JUDGEMENTS), TARGETS)


def test_overlapping_gold_spans_are_dropped_and_listed() -> None:
    result = adjudicate(JUDGEMENTS, TARGETS)
    assert result.gold["a2"].spans == ()
    overlaps = [c for c in result.conflicts if c.kind == SPAN_OVERLAP]
    assert [(c.span, c.annotators) for c in overlaps] == [
        (org(0, 21), ("ana", "budi", "citra")),
        (gpe(12, 21), ("ana", "budi")),
    ]
    assert "GPE[12:21]" in overlaps[0].reason


def test_ground_truth_wins() -> None:
    gold = adjudicate(JUDGEMENTS, TARGETS).gold["a4"]
    assert gold.source == "ground_truth" and gold.annotators == 1
    assert dict(gold.stance) == {"Rusia": N, "Ukraina": F}
    assert gold.spans == (per(0, 4), gpe(10, 15))


def test_disagreeing_ground_truths_give_no_gold() -> None:
    judgements = JUDGEMENTS + (
        judge("a6", "ana", (), {"Rusia": A}),
        judge("a6", "ahli", (per(0, 4),), {"Rusia": N}, gt=True),
        judge("a6", "pakar", (per(0, 4),), {"Rusia": A}, gt=True),
    )
    result = adjudicate(judgements, TARGETS)
    assert "a6" not in result.gold
    assert result.articles_without_gold == ("a6",)
    [conflict] = [c for c in result.conflicts if c.article_id == "a6"]
    assert conflict.kind == GROUND_TRUTH_DISAGREEMENT
    assert conflict.annotators == ("ahli", "pakar")
    assert "Rusia" in conflict.reason and "spans" not in conflict.reason


def test_an_annotator_whose_span_items_were_rejected_does_not_vote_there() -> None:
    """ana marks PER 0-5 and GPE 30-35; budi's items at 0-5 were rejected (place known), citra's all of unknown place:
    at 0-5 only ana voted (1 of 1); at 30-35 budi's silence is a vote (1 of 2, not more than half)."""
    group = (
        judge("r1", "ana", (per(0, 5), gpe(30, 35)), {}),
        dataclasses.replace(judge("r1", "budi", (), {}), rejected_at=((0, 5),)),
        dataclasses.replace(judge("r1", "citra", (), {}), rejected_unplaced=2),
    )
    result = adjudicate(group, TARGETS)
    assert result.gold["r1"].spans == (per(0, 5),)
    (below,) = [c for c in result.conflicts if c.kind == SPAN_BELOW_QUORUM]
    assert below.span == gpe(30, 35)
    assert below.reason == ("marked by 1 of 2 annotators; gold needs more than 50% "
                            "(1 not counted: their span items there were rejected)")
    counted = adjudicate([dataclasses.replace(j, rejected_at=(), rejected_unplaced=0) for j in group], TARGETS)
    assert counted.gold["r1"].spans == ()


def test_single_annotator_is_gold_and_flagged() -> None:
    result = adjudicate(JUDGEMENTS, TARGETS)
    assert result.gold["a5"].source == "single"
    assert dict(result.gold["a5"].stance) == {"Rusia": F}
    assert result.gold["a5"].spans == (gpe(3, 9),)
    assert result.single_annotator_articles == ("a5",)


def test_higher_quorum_needs_unanimity() -> None:
    result = adjudicate(JUDGEMENTS, TARGETS, quorum=2 / 3)
    gold = result.gold
    assert dict(gold["a1"].stance) == {"Ukraina": F}  # 2 of 3 is not more than 2/3
    assert gold["a1"].spans == (per(0, 5),)
    assert dict(gold["a2"].stance) == {"Ukraina": N}  # 2 of the 2 who answered
    assert dict(gold["a3"].stance) == {}
    assert (STANCE_NO_MAJORITY, "a1", "Rusia") in conflict_keys(result)
    assert (SPAN_BELOW_QUORUM, "a1", gpe(30, 35)) in conflict_keys(result)


def test_low_quorum_with_several_winners_is_still_a_conflict() -> None:
    result = adjudicate(JUDGEMENTS, TARGETS, quorum=0.3)
    assert "Rusia" not in result.gold["a3"].stance  # AGAINST and FAVOR both exceed 30% of 2
    assert result.gold["a3"].spans == (org(20, 30), org(40, 45))  # the three PER boundaries overlap
    dropped = [c.span for c in result.conflicts if c.kind == SPAN_OVERLAP and c.article_id == "a3"]
    assert dropped == [per(0, 8), per(0, 10), per(2, 10)]


def test_gold_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="more than one judgement"):
        adjudicate(JUDGEMENTS + (judge("a1", "ana", (), {}),), TARGETS)
    with pytest.raises(ValueError, match="quorum"):
        adjudicate(JUDGEMENTS, TARGETS, quorum=1.0)


def test_gold_as_dict_is_json() -> None:
    data = json.loads(json.dumps(adjudicate(JUDGEMENTS, TARGETS).as_dict()))
    assert data["single_annotator_articles"] == ["a5"]
    assert data["gold"][0]["spans"][0] == {"start": 0, "end": 5, "label": "PER"}


# ---------------------------------------------------------------- stance agreement


def test_alpha_by_hand() -> None:
    # Rusia, units = articles with >= 2 coders (a5 has one coder and adds nothing):
    #   a1 {A,A,N} m=3: ordered pairs AA 2, AN 2, NA 2, each / (m-1)=2 -> o_AA+=1, o_AN+=1, o_NA+=1
    #   a2 {F,A,N} m=3: every ordered pair of distinct values once / 2 -> o_FA, o_AF, o_FN, o_NF, o_AN, o_NA += 0.5
    #   a3 {A,F}   m=2: o_AF+=1, o_FA+=1
    #   a4 {A,A}   m=2: o_AA+=2                                        (ahli, ground truth, excluded)
    #   o_AA=3, o_AN=o_NA=1.5, o_AF=o_FA=1.5, o_FN=o_NF=0.5;  n_A=6, n_F=2, n_N=2, n=10
    #   alpha = 1 - (n-1) * sum_{c!=k} o_ck / sum_{c!=k} n_c n_k = 1 - 9*7 / (2*(6*2 + 6*2 + 2*2)) = 1 - 63/56 = -1/8
    # Ukraina: a1 {F,F,F} o_FF+=3; a2 {N,N} o_NN+=2; a3 {F,F,A} o_FF+=1, o_FA=o_AF+=1; a4 {F,F} o_FF+=2
    #   n_F=7, n_A=1, n_N=2, n=10: alpha = 1 - 9*2 / (2*(7*1 + 7*2 + 1*2)) = 1 - 18/46 = 14/23
    # Overall (8 article x target units): o_AF=o_FA=2.5, o_AN=o_NA=1.5, o_FN=o_NF=0.5; n_A=7, n_F=9, n_N=4, n=20
    #   alpha = 1 - 19*9 / (2*(7*9 + 7*4 + 9*4)) = 1 - 171/254 = 83/254
    report = agreement(JUDGEMENTS, LABELS, TARGETS)
    assert report.annotators == ("ana", "budi", "citra")
    rusia, ukraina, overall = report.stance_alpha["Rusia"], report.stance_alpha["Ukraina"], report.stance_alpha_overall
    assert rusia.value == pytest.approx(-1 / 8, abs=1e-9)
    assert ukraina.value == pytest.approx(14 / 23, abs=1e-9)
    assert overall.value == pytest.approx(83 / 254, abs=1e-9)
    assert (rusia.units, rusia.values, overall.units, overall.values) == (4, 10, 8, 20)


def test_ground_truth_is_a_coder_only_when_asked() -> None:
    # With ahli, a4 Rusia becomes {A,A,N} like a1: o_AA=2, o_AN=o_NA=2.5, o_AF=o_FA=1.5, o_FN=o_NF=0.5;
    #   n_A=6, n_F=2, n_N=3, n=11: alpha = 1 - 10*9 / (2*(6*2 + 6*3 + 2*3)) = 1 - 90/72 = -1/4
    report = agreement(JUDGEMENTS, LABELS, TARGETS, include_ground_truth=True)
    assert "ahli" in report.annotators
    assert report.stance_alpha["Rusia"].value == pytest.approx(-1 / 4, abs=1e-9)
    assert "ahli" not in agreement(JUDGEMENTS, LABELS, TARGETS).annotators


def test_kappa_by_hand() -> None:
    # ana x budi over the 8 article x target items both answered (rows ana, columns budi):
    #            A  F  N
    #       A    2  1  0      p_o = (2+3+1)/8 = 3/4
    #       F    1  3  0      p_e = (3*3 + 4*4 + 1*1)/64 = 13/32
    #       N    0  0  1      kappa = (3/4 - 13/32) / (1 - 13/32) = 11/19
    kappas = {k.annotators: k for k in agreement(JUDGEMENTS, LABELS, TARGETS).stance_kappa}
    assert list(kappas) == [("ana", "budi"), ("ana", "citra"), ("budi", "citra")]
    assert kappas[("ana", "budi")].n == 8
    assert kappas[("ana", "budi")].value == pytest.approx(11 / 19, abs=1e-9)
    assert kappas[("ana", "citra")].n == 4 and kappas[("budi", "citra")].n == 4


def test_krippendorff_library_behaviour_we_work_around() -> None:
    with pytest.raises(ValueError, match="more than one value"):
        krippendorff.alpha(reliability_data=np.array([[0.0, 0.0], [0.0, 0.0]]), level_of_measurement="nominal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mixed = krippendorff.alpha(
            reliability_data=np.array([[0.0, 1.0], [0.0, np.nan]]), level_of_measurement="nominal"
        )
    assert math.isnan(mixed)  # the only pairable unit agrees; the other value is in an unpairable unit


def test_alpha_without_variation_is_none() -> None:
    same = [judge(a, who, (), {"Rusia": F}) for a in ("a1", "a2") for who in ("ana", "budi")]
    lonely = [judge("a3", "ana", (), {"Rusia": A})]
    for judgements in (same, same + lonely):
        alpha = agreement(judgements, LABELS, TARGETS).stance_alpha["Rusia"]
        assert alpha.value is None and alpha.reason.startswith("no variation")
        assert alpha.units == 2


def test_alpha_without_pairable_units_is_none() -> None:
    judgements = [judge("a1", "ana", (), {"Rusia": F}), judge("a2", "budi", (), {"Rusia": A})]
    report = agreement(judgements, LABELS, TARGETS)
    assert report.stance_alpha["Rusia"].value is None
    assert report.stance_alpha["Rusia"].reason == NO_PAIRABLE_UNITS
    assert report.stance_alpha["Ukraina"].reason == NO_PAIRABLE_UNITS
    assert report.stance_alpha_overall.reason == NO_PAIRABLE_UNITS


def test_kappa_degenerate_cases() -> None:
    judgements = [
        judge("a1", "ana", (), {"Rusia": F}),
        judge("a1", "budi", (), {"Rusia": F}),
        judge("a2", "ana", (), {"Rusia": F}),
        judge("a2", "budi", (), {"Rusia": F}),
        judge("a3", "citra", (), {"Rusia": A}),
    ]
    kappas = {k.annotators: k for k in agreement(judgements, LABELS, TARGETS).stance_kappa}
    single = kappas[("ana", "budi")]
    assert single.value is None and single.n == 2 and single.reason.startswith("single category")
    assert kappas[("ana", "citra")].value is None
    assert kappas[("ana", "citra")].reason == NO_SHARED_ITEMS and kappas[("ana", "citra")].n == 0


def test_kappa_of_total_disagreement_is_zero_not_none() -> None:
    # ana always FAVOR, budi always AGAINST: p_o = 0, p_e = (2*0 + 0*2)/4 = 0, kappa = 0
    judgements = [judge(a, "ana", (), {"Rusia": F}) for a in ("a1", "a2")]
    judgements += [judge(a, "budi", (), {"Rusia": A}) for a in ("a1", "a2")]
    [kappa] = agreement(judgements, LABELS, TARGETS).stance_kappa
    assert kappa.value == 0.0 and kappa.reason is None


# ---------------------------------------------------------------- span agreement


def test_span_f1_exact_vs_overlap_by_hand() -> None:
    # ana (first) x budi (second) on a1-a4:
    #   PER exact: a1 (0,5) tp, a3 (0,10)/(0,8) fn+fp, a4 (0,4) tp          -> tp2 fp1 fn1
    #   ORG exact: a1 (10,20)/(10,18) fn+fp, a2 (0,21) tp, a3 (20,30) tp, (40,45) fp -> tp2 fp2 fn1
    #   GPE exact: a1 (30,35), a2 (12,21)                                    -> tp2
    #   exact overall tp6 fp3 fn2: F1 = 12/17; overlap turns both boundary misses into matches:
    #   overlap overall tp8 fp1 fn0: F1 = 16/17
    pair = agreement(JUDGEMENTS, LABELS, TARGETS).span_pairs[0]
    assert pair.annotators == ("ana", "budi") and pair.articles == 4
    assert pair.exact == SpanCounts(6, 3, 2) and pair.exact.f1 == pytest.approx(12 / 17, abs=1e-9)
    assert pair.overlap == SpanCounts(8, 1, 0) and pair.overlap.f1 == pytest.approx(16 / 17, abs=1e-9)
    assert pair.exact_by_label["PER"].f1 == pytest.approx(2 / 3, abs=1e-9)
    assert pair.overlap_by_label["PER"].f1 == pytest.approx(1.0, abs=1e-9)
    assert pair.exact_by_label["ORG"].f1 == pytest.approx(4 / 7, abs=1e-9)
    assert pair.overlap_by_label["ORG"].f1 == pytest.approx(6 / 7, abs=1e-9)


def test_span_f1_does_not_count_a_span_where_the_other_annotators_items_were_rejected() -> None:
    """budi's item at 10-15 was rejected in validation: ana's span there is no disagreement; budi's 20-25 still is."""
    ana = judge("r1", "ana", (per(0, 5), per(10, 15)), {})
    budi = dataclasses.replace(judge("r1", "budi", (per(0, 5), per(20, 25)), {}), rejected_at=((9, 16),))
    pair = agreement([ana, budi], LABELS, TARGETS).span_pairs[0]
    assert pair.exact == SpanCounts(1, 1, 0) and pair.overlap == SpanCounts(1, 1, 0)
    unplaced = dataclasses.replace(budi, rejected_at=(), rejected_unplaced=1)
    assert agreement([ana, unplaced], LABELS, TARGETS).span_pairs[0].exact == SpanCounts(1, 1, 0)
    counted = dataclasses.replace(budi, rejected_at=())
    assert agreement([ana, counted], LABELS, TARGETS).span_pairs[0].exact == SpanCounts(1, 1, 1)
    unplaced_ana = dataclasses.replace(ana, rejected_unplaced=1)  # then budi's 20-25 is no disagreement either
    assert agreement([unplaced_ana, unplaced], LABELS, TARGETS).span_pairs[0].exact == SpanCounts(1, 0, 0)


def test_span_micro_average_by_hand() -> None:
    # ana x citra (a1-a3):  exact tp3 fp2 fn4, overlap tp4 fp1 fn3
    # budi x citra (a1-a3): exact tp2 fp3 fn6, overlap tp4 fp1 fn4
    # micro exact tp11 fp8 fn12: F1 = 22/42; micro overlap tp16 fp3 fn7: F1 = 32/42
    report = agreement(JUDGEMENTS, LABELS, TARGETS)
    pairs = {p.annotators: p for p in report.span_pairs}
    assert pairs[("ana", "citra")].exact == SpanCounts(3, 2, 4)
    assert pairs[("budi", "citra")].overlap == SpanCounts(4, 1, 4)
    assert report.span_micro.exact == SpanCounts(11, 8, 12)
    assert report.span_micro.overlap == SpanCounts(16, 3, 7)
    assert report.span_micro.exact.f1 == pytest.approx(22 / 42, abs=1e-9)
    assert report.span_micro.overlap.f1 == pytest.approx(32 / 42, abs=1e-9)


def test_span_f1_is_symmetric() -> None:
    renamed = [dataclasses.replace(j, annotator="zaki") if j.annotator == "ana" else j for j in JUDGEMENTS]
    pairs = {p.annotators: p for p in agreement(renamed, LABELS, TARGETS).span_pairs}
    swapped = pairs[("budi", "zaki")]
    assert swapped.exact == SpanCounts(6, 2, 3)  # fp and fn trade places
    assert swapped.exact.f1 == pytest.approx(12 / 17, abs=1e-9)
    assert swapped.overlap.f1 == pytest.approx(16 / 17, abs=1e-9)


def test_overlap_matching_is_greedy_and_one_to_one() -> None:
    # ana (0,10),(10,12); budi (5,11),(0,4). Overlaps: (0,10)-(5,11)=5, (0,10)-(0,4)=4, (10,12)-(5,11)=1.
    # Greedy takes the 5 first; both others then reuse a matched span: tp1 fp1 fn1 (a maximum matching would find 2).
    first = judge("x", "ana", (per(0, 10), per(10, 12)), {})
    second = judge("x", "budi", (per(5, 11), per(0, 4)), {})
    for judgements in ([first, second], [second, first]):
        [pair] = agreement(judgements, LABELS, TARGETS).span_pairs
        assert pair.overlap == SpanCounts(1, 1, 1)
        assert pair.exact == SpanCounts(0, 2, 2) and pair.exact.f1 == 0.0


def test_span_f1_without_spans_is_none() -> None:
    judgements = [judge("a1", "ana", (), {}), judge("a1", "budi", (), {})]
    report = agreement(judgements, LABELS, TARGETS)
    assert report.span_micro.exact.f1 is None
    assert report.as_dict()["spans"]["micro"]["exact"]["reason"] == NO_SPANS


def test_agreement_rejects_unknown_labels_and_serialises() -> None:
    with pytest.raises(ValueError, match="LOC"):
        agreement([judge("a1", "ana", (Span(0, 3, "LOC"),), {})], LABELS, TARGETS)
    data = json.loads(json.dumps(agreement(JUDGEMENTS, LABELS, TARGETS).as_dict()))
    assert data["stance"]["kappa"][0]["n"] == 8
    assert data["spans"]["pairs"][0]["overlap"]["tp"] == 8
