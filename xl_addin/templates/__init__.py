"""Shipped document templates (reference.docx for the Word export; built by adapters/docx_reference.py)."""
