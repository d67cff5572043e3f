"""Keyholder: who holds the keys of an enterprise account, and how to get them back."""

__version__ = "0.1.0"
