"""Performance evaluation: schemes, scoring sheets, grades, the payment effect, evaluation PDFs.

Imports from :mod:`procurement`; built in a later issue.
"""
