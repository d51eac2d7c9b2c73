"""The on-disk cache of the rule kernels is stamped by every source they compile in."""

from __future__ import annotations

from diaspora_sim.model import streams
from diaspora_sim.model.rules import _kernel_cache, choice, month
from diaspora_sim.model.rules.russia import _russia_kernel


def test_rule_kernels_use_the_rules_locator():
    for kernel in (month._persons_kernel, _russia_kernel, choice._decide_kernel, choice.logit_pick):
        assert isinstance(kernel._cache._impl.locator, _kernel_cache.RulesCacheLocator), kernel
    assert not isinstance(streams.draw._cache._impl.locator, _kernel_cache.RulesCacheLocator)


def test_the_stamp_covers_the_modules_a_kernel_inlines():
    names = {p.name for p in _kernel_cache.SOURCES}
    assert {"month.py", "resources.py", "documents.py", "legal_status.py", "integration.py", "pressure.py",
            "russia.py", "choice.py", "codes.py", "state.py", "streams.py"} <= names
    assert _kernel_cache.sources_stamp() == month._persons_kernel._cache._impl.locator.get_source_stamp()
