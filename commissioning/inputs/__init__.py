"""Reading a case: the table contract (:mod:`.schema`), file readers, validation and scenarios.

Imports only the case layer below it. Everything that turns files into a :class:`Case`
lives here, and every problem it finds names the file or sheet, row and column.
"""
