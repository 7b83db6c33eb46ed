"""The service list (服务清单): categories, items, target groups and the negative list."""
