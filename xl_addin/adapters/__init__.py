"""Thin adapters between the pure core and files, engines and documents."""
