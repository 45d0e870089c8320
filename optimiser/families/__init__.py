"""The constraint families: one module per rule, holding everything known about it."""
