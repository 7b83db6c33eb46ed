"""Supervision of the service (监督管理): service reports with their delivery rows, later inspections and rectification."""
