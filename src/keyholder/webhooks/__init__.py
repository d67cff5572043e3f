"""Webhooks (Standard Webhooks) and audit streaming, fed by the audit log (issue 19)."""
