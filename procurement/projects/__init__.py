"""Procurement projects: budget lines, the purchase and its stages, bids and the award, the working-day calendar."""
