"""Beneficiaries (服务对象): the registry, its encrypted personal data, and assignment to contracts (DOMAIN §5, §9)."""
