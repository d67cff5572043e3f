"""Persistence: declarative base, engines, the unit of work."""
