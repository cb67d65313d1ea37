"""Integration models (sheet mappings, API keys, webhooks) arrive with the integrations issue."""
