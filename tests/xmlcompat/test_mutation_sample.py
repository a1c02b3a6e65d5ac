"""A sample of the benchmark's mutation corpus (bench/compat.py): one pair per change operator
on the small synthetic schemas, run through the checker and the independent oracle. No
"compatible" verdict may be refuted by the oracle, every incompatible verdict carries a
witness that lxml validates (valid under A, invalid under B), and the change list agrees with
the verdict."""

from __future__ import annotations

import pytest

from bench.compat_corpus import SYNTHETIC, build, judge
from bench.compat_ops import OPERATORS

_LANGS: dict = {}
# `<e xsi:type="T">` names e's declared type T: valid under A, and no longer valid once T is
# renamed or made anonymous, so these "refactorings" do not keep L(A) ⊆ L(B) (issue 13 lists
# them as language-preserving; the checker follows the issue for now).
_XSI_TYPE = pytest.mark.xfail(
    reason="xsi:type naming the declared type refutes the refactoring", strict=True
)
_OPERATORS = [
    pytest.param(op, marks=_XSI_TYPE)
    if op in ("REFACTOR_NAMED_TO_ANONYMOUS", "REFACTOR_TYPE_RENAMED")
    else op
    for op in sorted(OPERATORS)
]


@pytest.mark.parametrize("operator", _OPERATORS)
def test_operator_sample_agrees_with_the_oracle(tmp_path, operator):
    pairs = build(tmp_path, per_base=1, base_names=SYNTHETIC, operators=[operator])
    if not pairs:  # e.g. a sequence that can become xs:all: GSP's tables have them
        pairs = build(tmp_path, per_base=1, base_names=["gsp-4.5.0"], operators=[operator])
    assert pairs, f"{operator} has no site in any base"
    pair = pairs[sorted(OPERATORS).index(operator) % len(pairs)]  # bases take turns
    r = judge(pair, _LANGS, samples=50)
    assert r["verdict"] in ("compatible", "incompatible", "unknown"), r
    assert not (r["verdict"] == "compatible" and r["oracle"] == "refuted"), r
    if r["verdict"] == "incompatible":
        assert r["witness_ok"], r
    assert r["consistent"], r
