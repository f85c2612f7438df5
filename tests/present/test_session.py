"""The session is an observable model: what it says when variants are added, removed,
answered and activated (no Qt: the views' one source of change)."""

from __future__ import annotations

import pytest

from n1studio.grid.cases import load_case
from n1studio.present.session import Session


@pytest.fixture(scope="module")
def net():
    return load_case("case14")


def _recorder(session: Session) -> list[tuple]:
    seen: list[tuple] = []
    ev = session.events
    ev.entry_added.connect(lambda k, e: seen.append(("added", k, e.label)))
    ev.entry_removed.connect(lambda k, e: seen.append(("removed", k, e.label)))
    ev.entry_changed.connect(lambda e: seen.append(("changed", e.label)))
    ev.active_changed.connect(lambda e: seen.append(("active", e.label)))
    return seen


def test_adding_and_activating_say_what_changed(net):
    s = Session(net, "case14")
    seen = _recorder(s)
    a = s.new_entry(("line:3",))
    assert s.insert(a) == 1
    assert seen == [("added", 1, a.label)]
    assert s.current is s.base_entry  # adding does not activate
    s.active = 1
    assert seen[-1] == ("active", a.label)
    s.active = 1  # the same entry again: nothing to say
    assert len(seen) == 2


def test_inserting_before_the_active_entry_keeps_it_active(net):
    s = Session(net, "case14")
    a, b = s.new_entry(("line:3",)), s.new_entry(("line:4",))
    s.insert(a)
    s.active = 1
    seen = _recorder(s)
    s.insert(b, at=1)
    assert s.current is a and s.active == 2
    assert seen == [("added", 1, b.label)]  # no "active": the same variant is shown


def test_removing_the_active_entry_activates_another(net):
    s = Session(net, "case14")
    a, b = s.new_entry(("line:3",)), s.new_entry(("line:4",))
    s.insert(a)
    s.insert(b)
    s.active = 2
    seen = _recorder(s)
    s.remove(b, activate=1)
    assert s.current is a
    assert seen == [("removed", 2, b.label), ("active", a.label)]
    seen.clear()
    s.active = 0
    s.remove(a)  # not the active one: the N case stays shown, silently
    assert seen == [("active", s.base_entry.label), ("removed", 1, a.label)]
    assert s.current is s.base_entry
    with pytest.raises(ValueError):
        s.remove(s.base_entry)


def test_update_sets_results_and_says_so(net):
    s = Session(net, "case14")
    a = s.new_entry(("line:3",))
    seen = _recorder(s)
    verdict = {"violations": [{"constraint": "thermal", "element": "line:2"}]}
    s.update(a, verdict=verdict)  # not in the session (yet): set, nothing to say
    assert a.verdict is verdict and seen == []
    s.insert(a)
    s.update(a, raw="{}", error="")
    assert a.raw == "{}" and seen[-1] == ("changed", a.label)
    assert a.summary().endswith("1 violation(s)")
    with pytest.raises(AttributeError):
        s.update(a, variant=None)  # an entry's identity is not a result


def test_entries_are_themselves(net):
    """Two entries of the same variant with the same results are still two entries: the
    session finds, removes and activates the one it was given."""
    s = Session(net, "case14")
    a, b = s.new_entry(("line:3",)), s.new_entry(("line:3",))
    s.insert(a)
    s.insert(b)
    s.remove(b)
    assert s.entries[1] is a and len(s.entries) == 2
