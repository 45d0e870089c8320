"""Writers: CSV, JSON and workbooks, from results the layers below have computed.

A writer lays out and formats; it computes nothing new. Every file goes through
:mod:`.files`, which writes a whole folder or nothing.
"""
