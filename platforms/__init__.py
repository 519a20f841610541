"""Typed async clients of upstream chat platforms. Framework-free: nothing here imports Django."""
