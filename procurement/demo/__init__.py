"""Demo data: Yunnan's pilot counties, their bureaus, suppliers, service lists and one user per role."""
