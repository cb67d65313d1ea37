"""The voice app keeps no tables of its own; calls and turns live in calls.models."""
