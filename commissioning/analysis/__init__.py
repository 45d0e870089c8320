"""Analysis: what the case and the optimiser's levels mean, in figures and words.

The provision map and its flags, the explanation, the measured asks, comparison,
sensitivity, the agreement's contents and the audit of an edited agreement. Analysis
reads files when it must (a run folder, an edited workbook) but never writes one: that is
the writers' job, one layer up.
"""
