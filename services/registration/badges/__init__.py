"""badges."""
