"""Case views."""
