"""The linear programme: eligible variables, one module per constraint family, solving."""
