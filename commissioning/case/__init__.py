"""The case: what a commissioner knows (areas, cohorts, pots, budgets, need, provision, rules).

The lowest layer. It holds the frozen case model (:mod:`.model`), financial years
(:mod:`.years`), the money walk that spends a pot's budgets oldest first (:mod:`.money`)
and the one answer to "may pot p fund this cell?" (:mod:`.eligibility`). It imports
nothing of this project but :mod:`commissioning.errors`.
"""
