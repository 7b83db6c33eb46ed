"""The append-only, hash-chained audit log (DOMAIN §9)."""
