"""Regions, bureaus, finance bureaus, evaluation agencies and suppliers."""
