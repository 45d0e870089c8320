"""commissioning: line up employment-and-skills funding pots against evidenced need.

Read a case (:func:`commissioning.validate.load_case`), map provision against need
(:mod:`commissioning.mapping`), optimise (:mod:`optimiser`), and write an auditable
Local Labour Market Agreement (:mod:`commissioning.agreement`).
"""

__version__ = "0.1.0"
