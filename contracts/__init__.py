"""Contracts: versioned templates, contract records, rendering to HTML and PDF, the archive of issued PDFs.

Imports from :mod:`procurement`; its blueprint is registered by ``procurement.create_app``.
Built in a later issue.
"""
