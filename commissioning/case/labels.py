"""What a run is called, in the words every output uses."""

from __future__ import annotations


def run_label(case_name: str, scenario: str | None) -> str:
    """What was run: ``Case 'NAME'``, or ``Scenario 'X' on case 'NAME'`` when a scenario was applied."""
    return f"Scenario '{scenario}' on case '{case_name}'" if scenario is not None else f"Case '{case_name}'"


def rules_words(rules_changed: bool) -> str:
    """The rules the aligned level keeps, in words: today's, unless the scenario changed them.

    ``rules_changed`` is what :func:`commissioning.inputs.scenario.changes_rules` decided
    (``Case.rules_changed``, or ``summary.json``'s ``rules_changed``).
    """
    return "the scenario's rules" if rules_changed else "today's rules"
