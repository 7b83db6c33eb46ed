"""Acceptance of a contract (验收): per-standard results, beneficiaries' opinions, the conclusion (DOMAIN §5)."""
