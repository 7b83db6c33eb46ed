"""Pure domain rules: no Flask, no database, no request.

Everything here is plain functions, dataclasses, enums and ``Decimal``; it is
tested with parametrized tables in ``tests/unit``.
"""
