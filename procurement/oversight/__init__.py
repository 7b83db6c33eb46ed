"""Supervision of contracts in service: inspections, follow-ups, complaints, findings, rectification notices."""
