"""Administration split three ways (三员分立): accounts, roles and policies, settings."""
