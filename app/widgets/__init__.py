"""Reusable widgets: job bar, chat box, metric cards."""
