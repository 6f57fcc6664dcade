"""Subscriptions: a company's plan, its notification lists, and the operator's settings."""
